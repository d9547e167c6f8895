package provider

import (
	"os"
	"strings"
)

// The SDK's own logs (terraform-plugin-go and -framework) and the
// provider's default to trace level when their TF_LOG_SDK* and
// TF_LOG_PROVIDER_* variables are unset: every RPC then formats dozens of
// JSON log lines and writes them to Terraform, which drops them unless
// TF_LOG or TF_LOG_PROVIDER asks for them. On a 100-cluster plan that was
// 40% of the provider's CPU (make bench's profile). QuietUnrequestedLogs
// sets each unset variable to the level Terraform will keep (TF_LOG or
// TF_LOG_PROVIDER, whichever is more verbose), or off when neither is set:
// what reaches the log is unchanged, only the discarded work goes.
func QuietUnrequestedLogs() {
	level := moreVerbose(os.Getenv("TF_LOG"), os.Getenv("TF_LOG_PROVIDER"))
	if level == "" {
		level = "off"
	}
	for _, v := range []string{"TF_LOG_SDK", "TF_LOG_SDK_FRAMEWORK", "TF_LOG_SDK_PROTO", "TF_LOG_PROVIDER_APPLIANCE"} {
		if _, set := os.LookupEnv(v); !set {
			_ = os.Setenv(v, level) // cannot fail for a valid name
		}
	}
}

// logLevels in order of verbosity; TF_LOG=json is trace written as JSON.
var logLevels = []string{"trace", "debug", "info", "warn", "error"}

func verbosity(level string) int {
	l := strings.ToLower(strings.TrimSpace(level))
	if l == "json" {
		l = "trace"
	}
	for i, name := range logLevels {
		if l == name {
			return i
		}
	}
	return -1
}

// moreVerbose returns the more verbose of two TF_LOG levels, as a level
// name, or "" when neither is one.
func moreVerbose(a, b string) string {
	va, vb := verbosity(a), verbosity(b)
	switch {
	case va < 0 && vb < 0:
		return ""
	case va < 0:
		return logLevels[vb]
	case vb < 0:
		return logLevels[va]
	}
	return logLevels[min(va, vb)]
}
