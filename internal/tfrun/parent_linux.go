package tfrun

import (
	"bytes"
	"fmt"
	"os"
	"strings"
)

// parentProcess reads the parent's command line, working directory and
// start time from /proc.
func parentProcess() (process, bool) {
	ppid := os.Getppid()
	if ppid <= 1 {
		return process{}, false
	}
	dir := fmt.Sprintf("/proc/%d", ppid)
	raw, err := os.ReadFile(dir + "/cmdline")
	if err != nil || len(raw) == 0 {
		return process{}, false
	}
	args := strings.Split(string(bytes.TrimRight(raw, "\x00")), "\x00")
	cwd, err := os.Readlink(dir + "/cwd")
	if err != nil {
		return process{}, false
	}
	id := ""
	if stat, err := os.ReadFile(dir + "/stat"); err == nil {
		// Field 22, counted after the command name in parentheses (which
		// may itself hold spaces), is the start time in clock ticks.
		if i := bytes.LastIndexByte(stat, ')'); i >= 0 {
			if f := strings.Fields(string(stat[i+1:])); len(f) > 19 {
				id = fmt.Sprintf("%d started %s", ppid, f[19])
			}
		}
	}
	return process{args: args, cwd: cwd, id: id}, true
}
