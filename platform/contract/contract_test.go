package contract

import (
	"os"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// shape writes the JSON fields of a data struct the way docs/events.md
// does: {type, order_id, items: [{sku, quantity}]}.
func shape(t reflect.Type) string {
	switch t.Kind() {
	case reflect.Slice:
		return "[" + shape(t.Elem()) + "]"
	case reflect.Struct:
		if t.PkgPath() == "time" {
			return ""
		}
	default:
		return ""
	}
	var fields []string
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if inner := shape(f.Type); inner != "" {
			name += ": " + inner
		}
		fields = append(fields, name)
	}
	return "{" + strings.Join(fields, ", ") + "}"
}

// documented is one row of the catalog in docs/events.md.
type documented struct {
	topic, typ, data string
	reasons          []string
}

var (
	topicHeading = regexp.MustCompile("^## Topic `([^`]+)`")
	row          = regexp.MustCompile("^\\| `([a-z]+\\.[a-z]+)` \\|.*\\| `(\\{[^`]*\\})`(.*)\\|$")
	reasonList   = regexp.MustCompile("`reason` one of ((?:`[a-z_]+`(?:, )?)+)")
	backticked   = regexp.MustCompile("`([a-z_]+)`")
)

func readCatalog(t *testing.T) []documented {
	b, err := os.ReadFile("../../docs/events.md")
	if err != nil {
		t.Fatal(err)
	}
	var out []documented
	topic := ""
	for _, line := range strings.Split(string(b), "\n") {
		if m := topicHeading.FindStringSubmatch(line); m != nil {
			topic = m[1]
			continue
		}
		m := row.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		d := documented{topic: topic, typ: m[1], data: m[2]}
		if r := reasonList.FindStringSubmatch(m[3]); r != nil {
			for _, name := range backticked.FindAllStringSubmatch(r[1], -1) {
				d.reasons = append(d.reasons, name[1])
			}
		}
		out = append(out, d)
	}
	return out
}

// TestCatalogIsDocumented holds docs/events.md to Catalog: every event is
// documented under its topic with its data's fields and its reasons, and
// the document lists no event the contract does not have.
func TestCatalogIsDocumented(t *testing.T) {
	docs := readCatalog(t)
	if len(docs) == 0 {
		t.Fatal("docs/events.md lists no events")
	}
	for _, e := range Catalog {
		i := slices.IndexFunc(docs, func(d documented) bool { return d.typ == e.Type })
		if i < 0 {
			t.Errorf("%s is not in docs/events.md", e.Type)
			continue
		}
		d := docs[i]
		if d.topic != e.Topic {
			t.Errorf("docs/events.md lists %s under topic %q; the contract puts it on %q", e.Type, d.topic, e.Topic)
		}
		if want := shape(reflect.TypeOf(e.Data)); d.data != want {
			t.Errorf("docs/events.md: %s data %s; the contract's is %s", e.Type, d.data, want)
		}
		if !slices.Equal(d.reasons, e.Reasons) {
			t.Errorf("docs/events.md: %s reasons %v; the contract's are %v", e.Type, d.reasons, e.Reasons)
		}
	}
	for _, d := range docs {
		if !slices.ContainsFunc(Catalog, func(e Event) bool { return e.Type == d.typ }) {
			t.Errorf("docs/events.md documents %s, which the contract does not have", d.typ)
		}
	}
}

// TestEveryEventCarriesItsType: the data of every event names its own
// type (docs/events.md), so a consumer never needs the CloudEvent's.
func TestEveryEventCarriesItsType(t *testing.T) {
	for _, e := range Catalog {
		f, ok := reflect.TypeOf(e.Data).FieldByName("Type")
		if !ok || f.Tag.Get("json") != "type" {
			t.Errorf("%s: its data has no \"type\" field", e.Type)
		}
	}
}
