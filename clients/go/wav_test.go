package audioproc

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"math"
	"strings"
	"testing"
	"time"

	pb "github.com/audioproc/audioproc/clients/go/audioprocpb"
)

func header(t *testing.T, file []byte, n int) string {
	t.Helper()
	if len(file) < n {
		t.Fatalf("file of %d bytes, want at least %d", len(file), n)
	}
	return hex.EncodeToString(file[:n])
}

// The header bytes below are those of WAV files the C++ client (libsndfile) wrote.
func TestEncodeWAVHeadersMatchLibsndfile(t *testing.T) {
	now := time.Unix(0x6b111ccd, 0)
	format := func(e pb.Encoding, rate, channels uint32) *pb.AudioFormat {
		return &pb.AudioFormat{Encoding: e, SampleRateHz: rate, Channels: channels}
	}
	cases := []struct {
		name   string
		pcm    *PCM
		header string
		size   int
	}{
		{"s16 mono", &PCM{format(pb.Encoding_PCM_S16LE, 16000, 1), make([]byte, 2*86598)},
			"52494646b0a40200" + "57415645666d7420" + "10000000010001" + "00803e0000007d0000" + "02001000" + "646174618ca40200", 44 + 2*86598},
		{"s24 mono odd", &PCM{format(pb.Encoding_PCM_S24LE, 8000, 1), make([]byte, 3*1601)},
			"52494646e8120000" + "57415645666d7420" + "10000000010001" + "00401f0000c05d0000" + "03001800" + "64617461c3120000", 44 + 3*1601 + 1},
		{"s32 mono", &PCM{format(pb.Encoding_PCM_S32LE, 16000, 1), make([]byte, 4*86598)},
			"524946463c490500" + "57415645666d7420" + "10000000010001" + "00803e000000fa0000" + "04002000" + "6461746118490500", 44 + 4*86598},
		{"mulaw mono odd", &PCM{format(pb.Encoding_MULAW, 8000, 1), make([]byte, 1601)},
			"5249464674060000" + "57415645666d7420" + "12000000070001" + "00401f0000401f0000" + "010008000000" +
				"666163740400000041060000" + "6461746141060000", 58 + 1601 + 1},
		{"alaw stereo", &PCM{format(pb.Encoding_ALAW, 8000, 2), make([]byte, 2*1601)},
			"52494646b40c0000" + "57415645666d7420" + "12000000060002" + "00401f0000803e0000" + "020008000000" +
				"666163740400000041060000" + "64617461820c0000", 58 + 2*1601},
	}
	for _, c := range cases {
		file, err := EncodeWAV(c.pcm, now)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if got := header(t, file, len(c.header)/2); got != c.header {
			t.Errorf("%s: header\n got %s\nwant %s", c.name, got, c.header)
		}
		if len(file) != c.size {
			t.Errorf("%s: %d bytes, want %d", c.name, len(file), c.size)
		}
	}
}

func TestEncodeWAVFloatHasFactAndPeak(t *testing.T) {
	// Stereo, 3 frames: channel 0 peaks at 0.5 (frame 1, first of two), channel 1 at -0.75 (frame 2).
	samples := []float32{0.1, 0.2, -0.5, 0.3, 0.5, -0.75}
	data := make([]byte, 4*len(samples))
	for i, s := range samples {
		binary.LittleEndian.PutUint32(data[4*i:], math.Float32bits(s))
	}
	file, err := EncodeWAV(&PCM{&pb.AudioFormat{Encoding: pb.Encoding_PCM_F32LE, SampleRateHz: 8000, Channels: 2}, data},
		time.Unix(0x6b111cda, 0))
	if err != nil {
		t.Fatal(err)
	}
	want := "52494646" + "68000000" + "57415645666d7420" + "10000000030002" + "00401f000000fa0000" + "08002000" +
		"666163740400000003000000" + "5045414b18000000" + "01000000" + "da1c116b" +
		"0000003f" + "01000000" + "0000403f" + "02000000" + "6461746118000000"
	if got := header(t, file, len(want)/2); got != want {
		t.Fatalf("header\n got %s\nwant %s", got, want)
	}
	if !bytes.Equal(file[len(want)/2:], data) || len(file) != 0x68+8 {
		t.Fatalf("data or size wrong: %d bytes", len(file))
	}
}

func TestDecodeWAVRoundTripsAndConverts(t *testing.T) {
	s16 := []byte{0x01, 0x00, 0xff, 0x7f, 0x00, 0x80, 0x34, 0x12}
	file, _ := EncodeWAV(&PCM{&pb.AudioFormat{Encoding: pb.Encoding_PCM_S16LE, SampleRateHz: 16000, Channels: 2}, s16}, time.Now())
	pcm, err := DecodeWAV(file)
	if err != nil || pcm.Format.GetEncoding() != pb.Encoding_PCM_S16LE || pcm.Format.GetChannels() != 2 ||
		pcm.Format.GetSampleRateHz() != 16000 || !bytes.Equal(pcm.Data, s16) {
		t.Fatalf("16-bit: %v %v", pcm, err)
	}
	// 24-bit becomes float: sample / 2^23.
	s24 := []byte{0x00, 0x00, 0x40, 0xff, 0xff, 0xff, 0x00, 0x00, 0x80}
	file, _ = EncodeWAV(&PCM{&pb.AudioFormat{Encoding: pb.Encoding_PCM_S24LE, SampleRateHz: 8000, Channels: 1}, s24}, time.Now())
	pcm, err = DecodeWAV(file)
	if err != nil || pcm.Format.GetEncoding() != pb.Encoding_PCM_F32LE || pcm.Frames() != 3 {
		t.Fatalf("24-bit: %v %v", pcm, err)
	}
	want := []float32{0.5, -1.0 / (1 << 23), -1}
	for i, w := range want {
		if got := math.Float32frombits(binary.LittleEndian.Uint32(pcm.Data[4*i:])); got != w {
			t.Errorf("24-bit sample %d = %g, want %g", i, got, w)
		}
	}
	// G.711 files are refused: the expansion lives in the server's audio_io only.
	file, _ = EncodeWAV(&PCM{&pb.AudioFormat{Encoding: pb.Encoding_MULAW, SampleRateHz: 8000, Channels: 1}, []byte{0x00, 0xff, 0x80}}, time.Now())
	if _, err := DecodeWAV(file); err == nil || !strings.Contains(err.Error(), "G.711") {
		t.Errorf("a mu-law WAV was read (%v); want a G.711 refusal", err)
	}
	if _, err := DecodeWAV([]byte("RIFX0000WAVE")); err == nil {
		t.Error("a non-WAV file was accepted")
	}
}
