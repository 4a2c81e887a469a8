package cli

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"
)

// Output formats of --output.
const (
	outputTable = "table"
	outputJSON  = "json"
	outputCSV   = "csv"
)

// addOutputFlag registers --output on a command that lists things.
func addOutputFlag(cmd *cobra.Command, target *string) {
	cmd.Flags().StringVarP(target, "output", "o", outputTable, "output format: table, json or csv")
}

// checkOutputFormat validates an --output value.
func checkOutputFormat(format string) error {
	switch format {
	case outputTable, outputJSON, outputCSV:
		return nil
	}
	return usageError{fmt.Errorf("--output must be table, json or csv, not %q", format)}
}

// resultTable is a list of results with named columns, rendered in any output format.
type resultTable struct {
	Headers []string
	Rows    [][]string
}

// write renders t as an aligned text table, CSV with a header row, or JSON. JSON is written
// from value when it is not nil (a typed report), else as an array of objects keyed by the
// headers.
func (t resultTable) write(w io.Writer, format string, value any) error {
	switch format {
	case outputJSON:
		if value == nil {
			value = t.objects()
		}
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(value)
	case outputCSV:
		cw := csv.NewWriter(w)
		if err := cw.Write(t.Headers); err != nil {
			return err
		}
		if err := cw.WriteAll(t.Rows); err != nil {
			return err
		}
		return cw.Error()
	default:
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, strings.ToUpper(strings.Join(t.Headers, "\t")))
		for _, r := range t.Rows {
			fmt.Fprintln(tw, strings.Join(r, "\t"))
		}
		return tw.Flush()
	}
}

func (t resultTable) objects() []map[string]string {
	out := make([]map[string]string, len(t.Rows))
	for i, r := range t.Rows {
		m := make(map[string]string, len(t.Headers))
		for j, h := range t.Headers {
			if j < len(r) {
				m[h] = r[j]
			}
		}
		out[i] = m
	}
	return out
}
