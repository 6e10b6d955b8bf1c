package harness

import "testing"

func TestRenameTopics(t *testing.T) {
	s := &System{suffix: "x1", AppIDs: map[string]string{"ordersvc": "ordersvc-x1", "inventorysvc": "inventorysvc-x1", "usersvc": "usersvc-x1"}}
	tests := map[string]string{
		"ordersvc=orders,orders-deadletter,inventory-deadletter;inventorysvc=inventory;usersvc=users": "ordersvc-x1=orders-x1,orders-x1-deadletter,inventory-x1-deadletter;inventorysvc-x1=inventory-x1;usersvc-x1=users-x1",
		"orders,inventory,users-deadletter": "orders-x1,inventory-x1,users-x1-deadletter",
		"other=topic":                       "other=topic",
	}
	for in, want := range tests {
		if got := s.renameTopics(in); got != want {
			t.Errorf("renameTopics(%q) = %q; want %q", in, got, want)
		}
	}
}
