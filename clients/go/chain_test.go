package audioproc

import (
	"encoding/json"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	pb "github.com/audioproc/audioproc/clients/go/audioprocpb"
)

// The chain cases shared with the C++, Python and Node parsers' tests.
func TestChainCases(t *testing.T) {
	// The package folder may be reached through a GOPATH link (clients/go/go.sh): resolve it.
	_, file, _, _ := runtime.Caller(0)
	dir, err := filepath.EvalSymlinks(filepath.Dir(file))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "..", "..", "tests", "clients", "chain_cases.json")
	if root := os.Getenv("AUDIOPROC_SOURCE_DIR"); root != "" {
		path = filepath.Join(root, "tests", "clients", "chain_cases.json")
	}
	text, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("reading the shared chain cases: %v", err)
	}
	var cases struct {
		Cases []struct {
			Name  string          `json:"name"`
			Input string          `json:"input"`
			Chain json.RawMessage `json:"chain"`
			Error *string         `json:"error"`
		} `json:"cases"`
	}
	if err := json.Unmarshal(text, &cases); err != nil {
		t.Fatal(err)
	}
	if len(cases.Cases) < 50 {
		t.Fatalf("only %d chain cases", len(cases.Cases))
	}
	for _, c := range cases.Cases {
		t.Run(c.Name, func(t *testing.T) {
			chain, err := ParseChain(c.Input)
			if c.Error != nil {
				if err == nil {
					t.Fatalf("ParseChain(%q) = %v, want an error containing %q", c.Input, chain, *c.Error)
				}
				if _, ok := err.(*ChainError); !ok {
					t.Errorf("error %T, want *ChainError", err)
				}
				if !strings.Contains(err.Error(), *c.Error) {
					t.Fatalf("ParseChain(%q) error %q, want it to contain %q", c.Input, err, *c.Error)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseChain(%q): %v", c.Input, err)
			}
			// The expected chain is decoded by protobuf itself, not by the parser under test.
			want := &pb.StreamConfig{}
			if err := protojson.Unmarshal([]byte(`{"chain":`+string(c.Chain)+`}`), want); err != nil {
				t.Fatalf("case's chain: %v", err)
			}
			got := &pb.StreamConfig{Chain: chain}
			if !proto.Equal(got, want) {
				t.Fatalf("ParseChain(%q) = %v, want %v", c.Input, got, want)
			}
		})
	}
}

func TestStreamConfigKeepsMoreThanChain(t *testing.T) {
	config, err := ParseStreamConfig(`{"chain":[{"gain":{"gainDb":6}}],"output":{"sampleRateHz":8000},"streamId":"x"}`)
	if err != nil {
		t.Fatal(err)
	}
	if config.GetOutput().GetSampleRateHz() != 8000 || config.GetStreamId() != "x" || len(config.GetChain()) != 1 {
		t.Fatalf("got %v", config)
	}
}

func TestFormatChainRoundTrips(t *testing.T) {
	const text = "highpass:cutoff_hz=80:q=0.7071:order=2,resample:sample_rate_hz=8000:quality=VERY_HIGH,limiter:true_peak=true"
	chain, err := ParseChain(text)
	if err != nil {
		t.Fatal(err)
	}
	if got := FormatChain(chain); got != text {
		t.Fatalf("FormatChain = %q, want %q", got, text)
	}
	mix, _ := ParseChain(`[{"mix":{"outputChannels":1,"matrix":[0.5,0.5]}}]`)
	if got := FormatChain(mix); got != "mix:output_channels=1:matrix=[0.5 0.5]" {
		t.Fatalf("FormatChain(mix) = %q", got)
	}
}

func TestParseFormat(t *testing.T) {
	f, err := ParseFormat("s16le:16000:1")
	if err != nil || f.GetEncoding() != pb.Encoding_PCM_S16LE || f.GetSampleRateHz() != 16000 || f.GetChannels() != 1 {
		t.Fatalf("ParseFormat = %v, %v", f, err)
	}
	for _, e := range []string{"s24le", "s32le", "f32le", "mulaw", "alaw", "PCM_F32LE"} {
		if _, err := ParseFormat(e + ":48000:2"); err != nil {
			t.Errorf("ParseFormat(%s): %v", e, err)
		}
	}
	for _, bad := range []string{"", "s16le:16000", "s8:16000:1", "s16le:0:1", "s16le:16000:x"} {
		if _, err := ParseFormat(bad); err == nil {
			t.Errorf("ParseFormat(%q) accepted", bad)
		}
	}
}
