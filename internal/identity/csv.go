package identity

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
)

// Columns of the people CSV format. Header names are matched case-insensitively and may come
// in any order; only source is required in the header.
const (
	ColSource = "source" // the source tenant's sign-in name or object id
	ColTarget = "target" // the target account: staging sign-in name or object id
	ColFinal  = "final"  // the sign-in name the person ends up with in the target
	ColWave   = "wave"   // the wave's name; empty leaves the person unassigned
	ColNote   = "note"   // free text for reviewers; ignored on import
)

// Columns lists the columns of the import format in the order cutover writes them.
var Columns = []string{ColSource, ColTarget, ColFinal, ColWave, ColNote}

// Row is one data record of a people CSV file. Values are trimmed of surrounding spaces.
type Row struct {
	// Line is the line the record starts on (the header is line 1).
	Line   int
	Source string
	Target string
	Final  string
	Wave   string
	Note   string

	// lines holds the line each column's field starts on, which differs from Line only
	// when an earlier field is quoted across lines.
	lines map[string]int
}

// LineOf returns the line on which column col of the row starts.
func (r Row) LineOf(col string) int {
	if l, ok := r.lines[col]; ok {
		return l
	}
	return r.Line
}

// Problem is one thing wrong with an input, tied to its file, line and column so that a person
// can go straight to it. Column is empty for problems with a whole line or the whole file.
type Problem struct {
	File    string
	Line    int
	Column  string
	Message string
}

// String formats the problem as "file:line: column: message", leaving out what is unknown.
func (p Problem) String() string {
	var b strings.Builder
	b.WriteString(p.File)
	if p.Line > 0 {
		fmt.Fprintf(&b, ":%d", p.Line)
	}
	if b.Len() > 0 {
		b.WriteString(": ")
	}
	if p.Column != "" {
		b.WriteString(p.Column + ": ")
	}
	b.WriteString(p.Message)
	return b.String()
}

// Problems is a list of problems that is also an error, so that a command can return it and
// print one problem per line.
type Problems []Problem

func (ps Problems) Error() string {
	lines := make([]string, len(ps))
	for i, p := range ps {
		lines[i] = p.String()
	}
	return strings.Join(lines, "\n")
}

// utf8BOM is the byte order mark that Excel writes at the start of "CSV UTF-8" files.
var utf8BOM = []byte{0xEF, 0xBB, 0xBF}

// ReadCSV reads the people rows of a CSV file named file (used in problems only). It accepts a
// UTF-8 byte order mark, CRLF line ends and quoted fields, skips rows whose fields are all
// empty, and keeps reading after a malformed line so that every syntax problem is reported.
// Rows with problems are left out of the result. An error is returned only when reading r
// fails; syntax problems come back as Problems.
func ReadCSV(file string, r io.Reader) ([]Row, Problems, error) {
	br := bufio.NewReader(r)
	if p, ok := checkEncoding(file, br); !ok {
		return nil, Problems{p}, nil
	}
	cr := csv.NewReader(br)
	cr.FieldsPerRecord = -1 // checked here, to name the line and carry on
	cr.ReuseRecord = false

	cols, probs, err := readHeader(file, cr)
	if err != nil || len(probs) > 0 {
		return nil, probs, err
	}
	var rows []Row
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return rows, probs, nil
		}
		var pe *csv.ParseError
		if errors.As(err, &pe) {
			probs = append(probs, Problem{File: file, Line: pe.StartLine, Message: csvMessage(pe)})
			continue
		}
		if err != nil {
			return nil, nil, fmt.Errorf("read %s: %w", file, err)
		}
		line, _ := cr.FieldPos(0)
		if len(rec) != len(cols) {
			probs = append(probs, Problem{File: file, Line: line,
				Message: fmt.Sprintf("the line has %s but the header has %d", plural(len(rec), "field"),
					len(cols))})
			continue
		}
		if row, ok := makeRow(cr, line, cols, rec); ok {
			rows = append(rows, row)
		}
	}
}

// checkEncoding drops a UTF-8 byte order mark and refuses UTF-16, which spreadsheet programs
// write under "Unicode text" and which would otherwise surface as baffling header problems.
func checkEncoding(file string, br *bufio.Reader) (Problem, bool) {
	head, _ := br.Peek(3)
	switch {
	case bytes.HasPrefix(head, utf8BOM):
		_, _ = br.Discard(len(utf8BOM))
	case bytes.HasPrefix(head, []byte{0xFF, 0xFE}), bytes.HasPrefix(head, []byte{0xFE, 0xFF}):
		return Problem{File: file, Line: 1,
			Message: "the file is UTF-16; save it as CSV UTF-8"}, false
	}
	return Problem{}, true
}

// readHeader reads the first record and maps each field index to a known column name.
func readHeader(file string, cr *csv.Reader) ([]string, Problems, error) {
	rec, err := cr.Read()
	var pe *csv.ParseError
	switch {
	case errors.Is(err, io.EOF):
		return nil, Problems{{File: file, Message: "the file is empty; the first line must be " +
			"a header naming the columns (" + strings.Join(Columns, ", ") + ")"}}, nil
	case errors.As(err, &pe):
		return nil, Problems{{File: file, Line: pe.StartLine, Message: csvMessage(pe)}}, nil
	case err != nil:
		return nil, nil, fmt.Errorf("read %s: %w", file, err)
	}

	var probs Problems
	cols := make([]string, len(rec))
	for i, name := range rec {
		col := strings.ToLower(strings.TrimSpace(name))
		switch {
		case !slices.Contains(Columns, col):
			probs = append(probs, Problem{File: file, Line: 1, Message: fmt.Sprintf(
				"unknown column %q (allowed: %s)", strings.TrimSpace(name), strings.Join(Columns, ", "))})
		case slices.Contains(cols[:i], col):
			probs = append(probs, Problem{File: file, Line: 1,
				Message: fmt.Sprintf("column %q appears twice", col)})
		}
		cols[i] = col
	}
	if !slices.Contains(cols, ColSource) {
		probs = append(probs, Problem{File: file, Line: 1,
			Message: "the header has no source column (columns: " + strings.Join(Columns, ", ") + ")"})
	}
	return cols, probs, nil
}

// makeRow builds a row from a record; ok is false for rows with nothing in them, which
// spreadsheets leave at the end of an export.
func makeRow(cr *csv.Reader, line int, cols, rec []string) (Row, bool) {
	row := Row{Line: line, lines: make(map[string]int, len(cols))}
	empty := true
	for i, col := range cols {
		v := strings.TrimSpace(rec[i])
		if v != "" {
			empty = false
		}
		row.lines[col], _ = cr.FieldPos(i)
		switch col {
		case ColSource:
			row.Source = v
		case ColTarget:
			row.Target = v
		case ColFinal:
			row.Final = v
		case ColWave:
			row.Wave = v
		case ColNote:
			row.Note = v
		}
	}
	return row, !empty
}

// csvMessage words encoding/csv's parse errors for people editing a spreadsheet.
func csvMessage(pe *csv.ParseError) string {
	switch {
	case errors.Is(pe.Err, csv.ErrBareQuote):
		return fmt.Sprintf("character %d: a quote inside an unquoted field; quote the whole "+
			"field and double the quote (\"\")", pe.Column)
	case errors.Is(pe.Err, csv.ErrQuote) && pe.Line != pe.StartLine:
		return fmt.Sprintf("a quoted field is still open on line %d (a quote inside a quoted "+
			"field must be doubled)", pe.Line)
	case errors.Is(pe.Err, csv.ErrQuote):
		return fmt.Sprintf("character %d: a quoted field is not closed properly (a quote "+
			"inside a quoted field must be doubled)", pe.Column)
	default:
		return pe.Err.Error()
	}
}

// plural formats a count with its noun: "1 field", "3 fields".
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

// WriteCSV writes rows in the import format, header first, with the columns in Columns order.
// A note that a spreadsheet would take for a formula (it starts with = + - or @; notes carry
// display names from the directory) is prefixed with an apostrophe.
func WriteCSV(w io.Writer, rows []Row) error {
	cw := csv.NewWriter(w)
	_ = cw.Write(Columns)
	for _, r := range rows {
		note := r.Note
		if note != "" && strings.ContainsRune("=+-@", rune(note[0])) {
			note = "'" + note
		}
		_ = cw.Write([]string{r.Source, r.Target, r.Final, r.Wave, note})
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("write csv: %w", err)
	}
	return nil
}
