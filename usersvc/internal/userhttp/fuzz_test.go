package userhttp

import "testing"

// FuzzRequestBodies: whatever body a client sends to a route that decodes
// one, the answer is a success or a 4xx problem, never a 5xx.
func FuzzRequestBodies(f *testing.F) {
	routes := []struct{ method, path string }{{"POST", "/users"}, {"POST", "/auth/token"}, {"PATCH", "/users/me"}}
	for i, seed := range []string{
		`{"email":"ann@example.com","password":"secret-password","name":"Ann"}`,
		`{"email":"ann@example.com","password":"secret-password"}`,
		`{"name":"Ann"}`, `{"name":"a\u202eb"}`, `{"email":1}`, `{"role":"admin"}`, `{`, "{\"name\":\"\xff\"}",
	} {
		f.Add(uint8(i), seed)
	}
	var s *server
	f.Fuzz(func(t *testing.T, route uint8, body string) {
		if s == nil {
			s = newServer(t)
		}
		s.t = t
		r := routes[int(route)%len(routes)]
		rec := s.do(call{method: r.method, path: r.path, body: body, token: s.tokenFor("00000000-0000-4000-8000-000000000001", "customer")})
		if rec.Code >= 500 || (rec.Code >= 400 && rec.Header().Get("Content-Type") != "application/problem+json") {
			t.Errorf("%s %s %q = %d %s; want a success or a 4xx problem", r.method, r.path, body, rec.Code, rec.Body)
		}
	})
}
