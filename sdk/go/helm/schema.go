package helm

import (
	"embed"
	"fmt"
	"math/big"
	"regexp"
	"strings"
	"sync"
	"unicode/utf8"
)

// The subset of JSON Schema 2020-12 the receipt schemas use, over bundled copies of
// docs/spec/schemas (a test compares them byte for byte), so statements are checked against the
// same schemas the TypeScript verifier compiles: string lengths in code points, patterns anchored
// at the end of the string, body fields and their types, not only the required ones.

//go:embed schemas/*.json
var schemaFiles embed.FS

var (
	schemaOnce sync.Once
	schemaByID map[string]map[string]interface{}
	schemaByFn map[string]map[string]interface{}
	patterns   sync.Map // pattern text -> *regexp.Regexp
)

func loadSchemas() {
	schemaByID, schemaByFn = map[string]map[string]interface{}{}, map[string]map[string]interface{}{}
	entries, _ := schemaFiles.ReadDir("schemas")
	for _, e := range entries {
		b, _ := schemaFiles.ReadFile("schemas/" + e.Name())
		v, err := ParseJSON(b)
		if err != nil {
			panic("bundled schema " + e.Name() + ": " + err.Error())
		}
		s := v.(map[string]interface{})
		schemaByFn[e.Name()] = s
		if id, ok := s["$id"].(string); ok {
			schemaByID[id] = s
		}
	}
}

// statementProblem is the first reason a statement of this kind fails its schema, or "".
func statementProblem(kind string, st interface{}) string {
	return bundledProblem(kind+".v1.json", st)
}

// bundledProblem is the first reason a value fails the bundled schema of this file name, or "".
func bundledProblem(file string, v interface{}) string {
	schemaOnce.Do(loadSchemas)
	s := schemaByFn[file]
	return schemaProblem(s, v, s, "")
}

func schemaPattern(p string) *regexp.Regexp {
	if r, ok := patterns.Load(p); ok {
		return r.(*regexp.Regexp)
	}
	r := regexp.MustCompile(esSpaces(p))
	patterns.Store(p, r)
	return r
}

// ECMAScript's \s (WhiteSpace and LineTerminator) as class members; RE2's \s is ASCII only.
const esSpace = `\t\n\v\f\r \x{a0}\x{1680}\x{2000}-\x{200a}\x{2028}\x{2029}\x{202f}\x{205f}\x{3000}\x{feff}`

// esSpaces rewrites each \s of a pattern as ECMAScript's: members inside a class, a class outside.
func esSpaces(p string) string {
	var b strings.Builder
	inClass := false
	for i := 0; i < len(p); i++ {
		switch c := p[i]; {
		case c == '\\' && i+1 < len(p):
			if p[i+1] == 's' && inClass {
				b.WriteString(esSpace)
			} else if p[i+1] == 's' {
				b.WriteString("[" + esSpace + "]")
			} else {
				b.WriteString(p[i : i+2])
			}
			i++
		case c == '[' && !inClass, c == ']' && inClass:
			inClass = !inClass
			b.WriteByte(c)
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

func schemaType(t string, v interface{}) bool {
	switch t {
	case "object":
		_, ok := v.(map[string]interface{})
		return ok
	case "array":
		_, ok := v.([]interface{})
		return ok
	case "string":
		_, ok := v.(string)
		return ok
	case "boolean":
		_, ok := v.(bool)
		return ok
	case "null":
		return v == nil
	case "number":
		_, ok := schemaNumber(v)
		return ok
	case "integer":
		n, ok := schemaNumber(v)
		return ok && n.IsInt()
	}
	return false
}

func schemaNumber(v interface{}) (*big.Float, bool) {
	s, ok := v.(fmt.Stringer)
	if !ok {
		return nil, false
	}
	f, _, err := big.ParseFloat(s.String(), 10, 200, big.ToNearestEven)
	return f, err == nil && !f.IsInf()
}

func sameJSON(a, b interface{}) bool {
	ca, err1 := Canonicalize(a)
	cb, err2 := Canonicalize(b)
	return err1 == nil && err2 == nil && string(ca) == string(cb)
}

func schemaProblem(s map[string]interface{}, v interface{}, root map[string]interface{}, path string) string {
	at := path
	if at == "" {
		at = "/"
	}
	if ref, ok := s["$ref"].(string); ok {
		var p string
		if strings.HasPrefix(ref, "#/$defs/") {
			p = schemaProblem(root["$defs"].(map[string]interface{})[strings.TrimPrefix(ref, "#/$defs/")].(map[string]interface{}), v, root, path)
		} else if target, ok := schemaByID[ref]; ok {
			p = schemaProblem(target, v, target, path)
		} else {
			p = at + " refers to an unknown schema " + ref
		}
		if p != "" {
			return p
		}
	}
	if t, ok := s["type"]; ok {
		types, _ := t.([]interface{})
		if str, ok := t.(string); ok {
			types = []interface{}{str}
		}
		match := false
		for _, x := range types {
			match = match || schemaType(x.(string), v)
		}
		if !match {
			return fmt.Sprintf("%s must be %v", at, t)
		}
	}
	if c, ok := s["const"]; ok && !sameJSON(c, v) {
		return fmt.Sprintf("%s must be %v", at, c)
	}
	if e, ok := s["enum"].([]interface{}); ok {
		found := false
		for _, x := range e {
			found = found || sameJSON(x, v)
		}
		if !found {
			return fmt.Sprintf("%s must be one of %v", at, e)
		}
	}
	if str, ok := v.(string); ok {
		n := utf8.RuneCountInString(str) // code points, as ajv counts
		if m, ok := schemaNumber(s["minLength"]); ok && big.NewFloat(float64(n)).Cmp(m) < 0 {
			return fmt.Sprintf("%s is shorter than %v", at, s["minLength"])
		}
		if m, ok := schemaNumber(s["maxLength"]); ok && big.NewFloat(float64(n)).Cmp(m) > 0 {
			return fmt.Sprintf("%s is longer than %v", at, s["maxLength"])
		}
		if p, ok := s["pattern"].(string); ok && !schemaPattern(p).MatchString(str) {
			return fmt.Sprintf("%s does not match %s", at, p)
		}
	}
	if n, ok := schemaNumber(v); ok {
		if m, ok := schemaNumber(s["minimum"]); ok && n.Cmp(m) < 0 {
			return fmt.Sprintf("%s is below %v", at, s["minimum"])
		}
		if m, ok := schemaNumber(s["maximum"]); ok && n.Cmp(m) > 0 {
			return fmt.Sprintf("%s is above %v", at, s["maximum"])
		}
	}
	if arr, ok := v.([]interface{}); ok {
		n := big.NewFloat(float64(len(arr)))
		if m, ok := schemaNumber(s["minItems"]); ok && n.Cmp(m) < 0 {
			return fmt.Sprintf("%s has fewer than %v items", at, s["minItems"])
		}
		if m, ok := schemaNumber(s["maxItems"]); ok && n.Cmp(m) > 0 {
			return fmt.Sprintf("%s has more than %v items", at, s["maxItems"])
		}
		if items, ok := s["items"].(map[string]interface{}); ok {
			for i, e := range arr {
				if p := schemaProblem(items, e, root, fmt.Sprintf("%s/%d", path, i)); p != "" {
					return p
				}
			}
		}
	}
	if obj, ok := v.(map[string]interface{}); ok {
		props, _ := s["properties"].(map[string]interface{})
		req, _ := s["required"].([]interface{})
		for _, r := range req {
			if _, ok := obj[r.(string)]; !ok {
				return fmt.Sprintf("%s must have property %s", at, r)
			}
		}
		for k, e := range obj {
			if ps, ok := props[k].(map[string]interface{}); ok {
				if p := schemaProblem(ps, e, root, path+"/"+k); p != "" {
					return p
				}
			} else if ap, ok := s["additionalProperties"].(bool); ok && !ap {
				return fmt.Sprintf("%s must not have property %q", at, k)
			} else if aps, ok := s["additionalProperties"].(map[string]interface{}); ok {
				if p := schemaProblem(aps, e, root, path+"/"+k); p != "" {
					return p
				}
			}
		}
	}
	if any, ok := s["anyOf"].([]interface{}); ok {
		match := false
		for _, x := range any {
			match = match || schemaProblem(x.(map[string]interface{}), v, root, path) == ""
		}
		if !match {
			return at + " matches none of anyOf"
		}
	}
	if one, ok := s["oneOf"].([]interface{}); ok {
		n := 0
		for _, x := range one {
			if schemaProblem(x.(map[string]interface{}), v, root, path) == "" {
				n++
			}
		}
		if n != 1 {
			return at + " must match exactly one of oneOf"
		}
	}
	return ""
}
