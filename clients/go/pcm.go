package audioproc

import (
	"fmt"
	"strconv"
	"strings"

	pb "github.com/audioproc/audioproc/clients/go/audioprocpb"
)

// BytesPerSample is the size of one sample of e (0 for ENCODING_UNSPECIFIED).
func BytesPerSample(e pb.Encoding) int {
	switch e {
	case pb.Encoding_PCM_S16LE:
		return 2
	case pb.Encoding_PCM_S24LE:
		return 3
	case pb.Encoding_PCM_S32LE, pb.Encoding_PCM_F32LE:
		return 4
	case pb.Encoding_MULAW, pb.Encoding_ALAW:
		return 1
	}
	return 0
}

// BytesPerFrame is the size of one frame (a sample of every channel) of f; 0 if f has no
// encoding or channels.
func BytesPerFrame(f *pb.AudioFormat) int {
	return BytesPerSample(f.GetEncoding()) * int(f.GetChannels())
}

var encodingNames = map[string]pb.Encoding{
	"s16": pb.Encoding_PCM_S16LE, "s16le": pb.Encoding_PCM_S16LE,
	"s24": pb.Encoding_PCM_S24LE, "s24le": pb.Encoding_PCM_S24LE,
	"s32": pb.Encoding_PCM_S32LE, "s32le": pb.Encoding_PCM_S32LE,
	"f32": pb.Encoding_PCM_F32LE, "f32le": pb.Encoding_PCM_F32LE,
	"mulaw": pb.Encoding_MULAW, "ulaw": pb.Encoding_MULAW,
	"alaw": pb.Encoding_ALAW,
}

// ParseEncoding reads an encoding name, case-insensitively: the proto name ("PCM_S16LE") or
// a short one (s16le, s24le, s32le, f32le, mulaw, alaw; s16, s24, s32, f32, ulaw).
func ParseEncoding(name string) (pb.Encoding, error) {
	lower := strings.ToLower(strings.TrimSpace(name))
	if e, ok := encodingNames[lower]; ok {
		return e, nil
	}
	if v, ok := pb.Encoding_value[strings.ToUpper(lower)]; ok && v != 0 {
		return pb.Encoding(v), nil
	}
	return 0, fmt.Errorf("unknown encoding '%s' (s16le, s24le, s32le, f32le, mulaw, alaw, or "+
		"PCM_S16LE, PCM_S24LE, PCM_S32LE, PCM_F32LE, MULAW, ALAW)", name)
}

// ParseFormat reads a raw-PCM format, ENCODING:RATE:CHANNELS (e.g. s16le:16000:1).
func ParseFormat(text string) (*pb.AudioFormat, error) {
	parts := strings.Split(text, ":")
	if len(parts) != 3 {
		return nil, fmt.Errorf("format '%s' is not ENCODING:RATE:CHANNELS (e.g. s16le:16000:1)", text)
	}
	encoding, err := ParseEncoding(parts[0])
	if err != nil {
		return nil, err
	}
	rate, err := strconv.ParseUint(strings.TrimSpace(parts[1]), 10, 32)
	if err != nil || rate == 0 {
		return nil, fmt.Errorf("format '%s': '%s' is not a sample rate in Hz", text, parts[1])
	}
	channels, err := strconv.ParseUint(strings.TrimSpace(parts[2]), 10, 32)
	if err != nil || channels == 0 {
		return nil, fmt.Errorf("format '%s': '%s' is not a channel count", text, parts[2])
	}
	return &pb.AudioFormat{Encoding: encoding, SampleRateHz: uint32(rate), Channels: uint32(channels)}, nil
}

// FormatString renders f for people: "16000 Hz, 1 ch, PCM_S16LE".
func FormatString(f *pb.AudioFormat) string {
	return fmt.Sprintf("%d Hz, %d ch, %s", f.GetSampleRateHz(), f.GetChannels(), f.GetEncoding())
}
