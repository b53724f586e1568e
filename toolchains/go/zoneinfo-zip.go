// zoneinfo-zip writes $GOROOT/lib/time/zoneinfo.zip, which upstream Go ships and Debian's
// Go leaves out, from the copy Debian keeps in the source: the zipdata constant of
// time/tzdata (src/time/tzdata/zzipdata.go, generated from the same zip by go tool dist).
// The time package's own tests load the zip from there (GOROOT/lib/time, ../../lib/time
// from their folder).
//
//	go run zoneinfo-zip.go GOROOT
package main

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strconv"
)

func main() {
	if len(os.Args) != 2 {
		fail(fmt.Errorf("usage: go run zoneinfo-zip.go GOROOT"))
	}
	goroot := os.Args[1]
	src := filepath.Join(goroot, "src", "time", "tzdata", "zzipdata.go")
	file, err := parser.ParseFile(token.NewFileSet(), src, nil, 0)
	if err != nil {
		fail(err)
	}
	zip, err := zipdata(file)
	if err != nil {
		fail(fmt.Errorf("%s: %w", src, err))
	}
	out := filepath.Join(goroot, "lib", "time", "zoneinfo.zip")
	if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
		fail(err)
	}
	if err := os.WriteFile(out, []byte(zip), 0o644); err != nil {
		fail(err)
	}
}

// zipdata is the value of the file's string constant named zipdata.
func zipdata(file *ast.File) (string, error) {
	for _, decl := range file.Decls {
		gen, ok := decl.(*ast.GenDecl)
		if !ok || gen.Tok != token.CONST {
			continue
		}
		for _, spec := range gen.Specs {
			value := spec.(*ast.ValueSpec)
			for i, name := range value.Names {
				if name.Name != "zipdata" || i >= len(value.Values) {
					continue
				}
				lit, ok := value.Values[i].(*ast.BasicLit)
				if !ok || lit.Kind != token.STRING {
					return "", fmt.Errorf("zipdata is not a string literal")
				}
				s, err := strconv.Unquote(lit.Value)
				if err != nil {
					return "", err
				}
				if len(s) < 4 || s[:4] != "PK\x03\x04" {
					return "", fmt.Errorf("zipdata is not a zip archive")
				}
				return s, nil
			}
		}
	}
	return "", fmt.Errorf("no constant zipdata")
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "zoneinfo-zip:", err)
	os.Exit(1)
}
