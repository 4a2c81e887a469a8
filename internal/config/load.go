package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"gopkg.in/yaml.v3"
)

// MaxFileSize bounds the configuration file; a real one is a few kilobytes.
const MaxFileSize = 1 << 20

// Load reads, validates and completes the configuration at path. Problems in the file come
// back as Errors, every one of them; a file that cannot be read comes back as a wrapped
// *os.PathError. Relative file paths inside the configuration are relative to its folder.
func Load(path string) (*Config, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read configuration: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("read configuration: %w", err)
	}
	abs, err := filepath.Abs(filepath.Dir(path))
	if err != nil {
		return nil, fmt.Errorf("read configuration: %w", err)
	}
	return Parse(path, data, abs)
}

// Parse validates and completes a configuration read from name. dir is the folder relative
// file paths are resolved against.
func Parse(name string, data []byte, dir string) (*Config, error) {
	d := &decoder{file: name}
	if len(data) > MaxFileSize {
		d.errorf(0, "", "file is larger than %d bytes", MaxFileSize)
		return nil, d.errs
	}
	root, ok := d.parseYAML(data)
	if !ok {
		return nil, d.errs
	}
	c := &Config{Path: name}
	v := validator{decoder: d, dir: dir}
	v.document(root, c)
	if len(d.errs) > 0 {
		sortErrors(d.errs)
		return nil, d.errs
	}
	return c, nil
}

// parseYAML parses exactly one YAML document and returns its top-level node.
func (d *decoder) parseYAML(data []byte) (n *yaml.Node, ok bool) {
	if len(bytes.TrimSpace(data)) == 0 {
		d.errorf(0, "", "file is empty; run cutover init to write a commented template")
		return nil, false
	}
	var doc yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	err := safeDecode(dec, &doc)
	if errors.Is(err, io.EOF) {
		d.errorf(0, "", "file holds only comments; run cutover init to write a commented template")
		return nil, false
	}
	if err != nil {
		d.yamlError(err)
		return nil, false
	}
	var extra yaml.Node
	if err := safeDecode(dec, &extra); !errors.Is(err, io.EOF) {
		d.errorf(extra.Line, "", "the file holds more than one YAML document; keep one")
		return nil, false
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) != 1 {
		d.errorf(0, "", "the file holds no YAML document")
		return nil, false
	}
	return doc.Content[0], true
}

// safeDecode runs the YAML parser and turns a panic inside it into an error: the parser is
// third-party code, and a configuration file must never crash cutover.
func safeDecode(dec *yaml.Decoder, v *yaml.Node) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("yaml: unreadable input (%v)", r)
		}
	}()
	return dec.Decode(v)
}

// yamlError turns a parser message such as "yaml: line 3: did not find expected key" into a
// positioned problem.
func (d *decoder) yamlError(err error) {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	line := 0
	if rest, ok := strings.CutPrefix(msg, "line "); ok {
		var n int
		if _, scanErr := fmt.Sscanf(rest, "%d:", &n); scanErr == nil {
			line = n
			msg = strings.TrimSpace(rest[strings.Index(rest, ":")+1:])
		}
	}
	d.errorf(line, "", "not valid YAML: %s", msg)
}
