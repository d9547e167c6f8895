// Command benchtool does the little parsing bench/run.sh needs, so that the
// script needs nothing beyond bash, curl and Go:
//
//	benchtool stats BEFORE_JSON AFTER_JSON   most GETs of one cluster between two GET /v1/stats answers, and the requests
//	benchtool reads LOG                      passes over the bundle in a provider log (TF_LOG_PROVIDER=INFO)
//	benchtool span LOG FROM TO               seconds from the first line containing FROM to the last containing TO
//	benchtool first-span LOG FROM TO         seconds from the first line containing FROM to the first containing TO after it
//	benchtool sub A B                        A - B
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"strconv"
	"strings"
	"time"
)

func main() {
	if len(os.Args) < 2 {
		fail("usage: benchtool stats|reads|span|first-span|sub ...")
	}
	switch os.Args[1] {
	case "stats":
		stats(os.Args[2], os.Args[3])
	case "reads":
		reads(os.Args[2])
	case "span":
		span(os.Args[2], os.Args[3], os.Args[4], false)
	case "first-span":
		span(os.Args[2], os.Args[3], os.Args[4], true)
	case "sub":
		a, _ := strconv.ParseFloat(os.Args[2], 64)
		b, _ := strconv.ParseFloat(os.Args[3], 64)
		fmt.Printf("%.3f\n", a-b)
	default:
		fail("unknown command " + os.Args[1])
	}
}

func fail(msg string) {
	fmt.Fprintln(os.Stderr, "benchtool:", msg)
	os.Exit(2)
}

type simStats struct {
	Requests    int64            `json:"requests"`
	ClusterGets map[string]int64 `json:"cluster_gets"`
}

func stats(before, after string) {
	var b, a simStats
	if json.Unmarshal([]byte(before), &b) != nil || json.Unmarshal([]byte(after), &a) != nil {
		fail("stats: not GET /v1/stats answers")
	}
	most := int64(0)
	for c, n := range a.ClusterGets {
		most = max(most, n-b.ClusterGets[c])
	}
	fmt.Println(most, a.Requests-b.Requests)
}

var (
	// tflog writes numbers through JSON: 67111424 may read "6.7111424e+07".
	bytesRead  = regexp.MustCompile(`bytes_read="?([0-9.e+]+)`)
	filePasses = regexp.MustCompile(`file_passes="?([0-9.e+]+)`)
)

// reads counts the passes over a bundle file that a provider log records:
// each plan-time inspection that read the file (bytes_read > 0), and the
// passes each upload made.
func reads(path string) {
	f, err := os.Open(path)
	if err != nil {
		fail(err.Error())
	}
	defer func() { _ = f.Close() }() // read only
	n := 0
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.Contains(line, "image bundle verified"):
			if m := bytesRead.FindStringSubmatch(line); m != nil && number(m[1]) > 0 {
				n++
			}
		case strings.Contains(line, "image bundle uploaded"):
			if m := filePasses.FindStringSubmatch(line); m != nil {
				n += int(number(m[1]))
			}
		}
	}
	fmt.Println(n)
}

func number(s string) float64 {
	f, _ := strconv.ParseFloat(s, 64)
	return f
}

func span(path, from, to string, first bool) {
	f, err := os.Open(path)
	if err != nil {
		fail(err.Error())
	}
	defer func() { _ = f.Close() }() // read only
	var start, end time.Time
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		ts, _, _ := strings.Cut(line, " ")
		t, err := time.Parse(time.RFC3339Nano, ts)
		if err != nil {
			continue
		}
		if start.IsZero() && strings.Contains(line, from) {
			start = t
		}
		if strings.Contains(line, to) && !start.IsZero() && (!first || end.IsZero()) {
			end = t
		}
	}
	if start.IsZero() || end.IsZero() {
		fail(fmt.Sprintf("span: %q or %q not in %s", from, to, path))
	}
	fmt.Printf("%.3f\n", end.Sub(start).Seconds())
}
