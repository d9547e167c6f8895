package provider

import (
	"os"
	"testing"
)

func TestUnrequestedSDKLogsAreOffAndRequestedOnesKeepTheirLevel(t *testing.T) {
	cases := []struct {
		tfLog, tfLogProvider, sdkPreset string
		want                            map[string]string
	}{
		{"", "", "", map[string]string{"TF_LOG_SDK": "off", "TF_LOG_SDK_FRAMEWORK": "off", "TF_LOG_PROVIDER_APPLIANCE": "off"}},
		{"debug", "", "", map[string]string{"TF_LOG_SDK": "debug", "TF_LOG_SDK_PROTO": "debug", "TF_LOG_PROVIDER_APPLIANCE": "debug"}},
		{"warn", "INFO", "", map[string]string{"TF_LOG_SDK_FRAMEWORK": "info", "TF_LOG_PROVIDER_APPLIANCE": "info"}},
		{"JSON", "", "", map[string]string{"TF_LOG_SDK": "trace"}},
		{"", "", "trace", map[string]string{"TF_LOG_SDK": "trace", "TF_LOG_SDK_FRAMEWORK": "off"}}, // an explicit setting wins
	}
	for _, tc := range cases {
		for _, v := range []string{"TF_LOG", "TF_LOG_PROVIDER", "TF_LOG_SDK", "TF_LOG_SDK_FRAMEWORK", "TF_LOG_SDK_PROTO", "TF_LOG_PROVIDER_APPLIANCE"} {
			t.Setenv(v, "")
			_ = os.Unsetenv(v)
		}
		if tc.tfLog != "" {
			t.Setenv("TF_LOG", tc.tfLog)
		}
		if tc.tfLogProvider != "" {
			t.Setenv("TF_LOG_PROVIDER", tc.tfLogProvider)
		}
		if tc.sdkPreset != "" {
			t.Setenv("TF_LOG_SDK", tc.sdkPreset)
		}
		QuietUnrequestedLogs()
		for k, want := range tc.want {
			if got := os.Getenv(k); got != want {
				t.Errorf("TF_LOG=%q TF_LOG_PROVIDER=%q: %s=%q, want %q", tc.tfLog, tc.tfLogProvider, k, got, want)
			}
		}
	}
}
