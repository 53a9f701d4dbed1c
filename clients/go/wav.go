package audioproc

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"time"

	pb "github.com/audioproc/audioproc/clients/go/audioprocpb"
)

// PCM is interleaved audio in a wire format the service takes.
type PCM struct {
	Format *pb.AudioFormat
	Data   []byte
}

// Frames is the number of whole frames in p.Data.
func (p *PCM) Frames() int {
	if n := BytesPerFrame(p.Format); n > 0 {
		return len(p.Data) / n
	}
	return 0
}

const (
	wavFormatPCM        = 1
	wavFormatFloat      = 3
	wavFormatALaw       = 6
	wavFormatMuLaw      = 7
	wavFormatExtensible = 0xFFFE
)

// DecodeWAV reads a WAV file the way the C++ client does (through libsndfile): 16-bit PCM
// stays PCM_S16LE; every other sample format (8, 24 and 32-bit integer, 32 and 64-bit float,
// mu-law, A-law) becomes PCM_F32LE, integers scaled as libsndfile does (sample / 2^(bits-1);
// 8-bit WAV is unsigned, (sample - 128) / 128; G.711 through its 16-bit expansion / 32768).
func DecodeWAV(file []byte) (*PCM, error) {
	if len(file) < 12 || string(file[0:4]) != "RIFF" || string(file[8:12]) != "WAVE" {
		return nil, errors.New("not a WAV file (no RIFF/WAVE header)")
	}
	var (
		format            uint16
		channels          uint16
		rate              uint32
		bits              uint16
		haveFmt, haveData bool
		data              []byte
	)
	for at := 12; at+8 <= len(file) && !haveData; {
		id := string(file[at : at+4])
		size := int64(binary.LittleEndian.Uint32(file[at+4 : at+8]))
		body := int64(at + 8)
		end := body + size
		if end > int64(len(file)) {
			end = int64(len(file)) // A streamed WAV's sizes may be unset or too large.
		}
		chunk := file[body:end]
		switch id {
		case "fmt ":
			if len(chunk) < 16 {
				return nil, errors.New("WAV fmt chunk too short")
			}
			format = binary.LittleEndian.Uint16(chunk[0:2])
			channels = binary.LittleEndian.Uint16(chunk[2:4])
			rate = binary.LittleEndian.Uint32(chunk[4:8])
			bits = binary.LittleEndian.Uint16(chunk[14:16])
			if format == wavFormatExtensible {
				if len(chunk) < 26 {
					return nil, errors.New("WAV extensible fmt chunk too short")
				}
				format = binary.LittleEndian.Uint16(chunk[24:26]) // The sub-format GUID's first bytes.
			}
			haveFmt = true
		case "data":
			data = chunk
			haveData = true
		}
		at = int(end + (size & 1)) // Chunks are padded to an even size.
	}
	if !haveFmt || !haveData {
		return nil, errors.New("WAV file without fmt or data chunk")
	}
	if channels == 0 || rate == 0 {
		return nil, fmt.Errorf("WAV file with %d channels at %d Hz", channels, rate)
	}
	out := &pb.AudioFormat{SampleRateHz: rate, Channels: uint32(channels)}
	sampleBytes := int(bits+7) / 8
	if format == wavFormatALaw || format == wavFormatMuLaw {
		sampleBytes = 1
	}
	if sampleBytes == 0 {
		return nil, fmt.Errorf("WAV file with %d-bit samples", bits)
	}
	frameBytes := sampleBytes * int(channels)
	data = data[:len(data)/frameBytes*frameBytes]
	samples := len(data) / sampleBytes

	toFloat := func(sample func(i int) float32) *PCM {
		out.Encoding = pb.Encoding_PCM_F32LE
		buf := make([]byte, 4*samples)
		for i := 0; i < samples; i++ {
			binary.LittleEndian.PutUint32(buf[4*i:], math.Float32bits(sample(i)))
		}
		return &PCM{Format: out, Data: buf}
	}
	switch {
	case format == wavFormatPCM && bits == 16:
		out.Encoding = pb.Encoding_PCM_S16LE
		return &PCM{Format: out, Data: append([]byte(nil), data...)}, nil
	case format == wavFormatPCM && bits == 8:
		return toFloat(func(i int) float32 { return float32(int(data[i])-128) * (1.0 / 0x80) }), nil
	case format == wavFormatPCM && bits == 24:
		return toFloat(func(i int) float32 {
			b := data[3*i : 3*i+3]
			v := int32(uint32(b[0])<<8 | uint32(b[1])<<16 | uint32(b[2])<<24)
			return float32(v) * (1.0 / 0x80000000)
		}), nil
	case format == wavFormatPCM && bits == 32:
		return toFloat(func(i int) float32 {
			v := int32(binary.LittleEndian.Uint32(data[4*i:]))
			return float32(v) * (1.0 / 0x80000000)
		}), nil
	case format == wavFormatFloat && bits == 32:
		out.Encoding = pb.Encoding_PCM_F32LE
		return &PCM{Format: out, Data: append([]byte(nil), data...)}, nil
	case format == wavFormatFloat && bits == 64:
		return toFloat(func(i int) float32 {
			return float32(math.Float64frombits(binary.LittleEndian.Uint64(data[8*i:])))
		}), nil
	case format == wavFormatMuLaw || format == wavFormatALaw:
		// G.711 is expanded in one place, the server's audio_io library; the C++ client reads
		// such files, and headerless G.711 goes as it is with --format mulaw:8000:1.
		return nil, fmt.Errorf("G.711 WAV input is not read by the Go client: use audioproc-client, " +
			"or send the samples headerless with --input - --format mulaw:RATE:CHANNELS (or alaw)")
	}
	return nil, fmt.Errorf("WAV sample format %d with %d bits is not supported by the Go client "+
		"(PCM 8/16/24/32-bit and float 32/64-bit are)", format, bits)
}

// EncodeWAV makes the WAV file that libsndfile (and so the C++ client) writes for p, byte
// for byte: a 16-byte fmt chunk for PCM and float (WAVE_FORMAT_PCM, WAVE_FORMAT_IEEE_FLOAT),
// an 18-byte one for mu-law and A-law; a fact chunk for all but integer PCM; for float a
// PEAK chunk (each channel's largest magnitude and the first frame it occurs at, stamped
// with `now` in seconds: the only bytes that differ between two runs); the data, padded to
// an even size.
func EncodeWAV(p *PCM, now time.Time) ([]byte, error) {
	f := p.Format
	channels := int(f.GetChannels())
	sampleBytes := BytesPerSample(f.GetEncoding())
	if sampleBytes == 0 || channels == 0 || f.GetSampleRateHz() == 0 {
		return nil, fmt.Errorf("incomplete audio format: %s", FormatString(f))
	}
	frameBytes := sampleBytes * channels
	if len(p.Data)%frameBytes != 0 {
		return nil, fmt.Errorf("%d bytes is not a whole number of %d-byte frames", len(p.Data), frameBytes)
	}
	frames := uint32(len(p.Data) / frameBytes)
	var tag uint16
	fmtSize := 16
	switch f.GetEncoding() {
	case pb.Encoding_PCM_F32LE:
		tag = wavFormatFloat
	case pb.Encoding_MULAW:
		tag, fmtSize = wavFormatMuLaw, 18
	case pb.Encoding_ALAW:
		tag, fmtSize = wavFormatALaw, 18
	default:
		tag = wavFormatPCM
	}
	le := binary.LittleEndian
	u16 := func(b []byte, v uint16) []byte { return le.AppendUint16(b, v) }
	u32 := func(b []byte, v uint32) []byte { return le.AppendUint32(b, v) }

	out := make([]byte, 0, len(p.Data)+128)
	out = append(out, "RIFF\x00\x00\x00\x00WAVE"...)
	out = append(out, "fmt "...)
	out = u32(out, uint32(fmtSize))
	out = u16(out, tag)
	out = u16(out, uint16(channels))
	out = u32(out, f.GetSampleRateHz())
	out = u32(out, f.GetSampleRateHz()*uint32(frameBytes))
	out = u16(out, uint16(frameBytes))
	out = u16(out, uint16(8*sampleBytes))
	if fmtSize == 18 {
		out = u16(out, 0) // cbSize: no extra format bytes.
	}
	if tag != wavFormatPCM {
		out = append(out, "fact"...)
		out = u32(out, 4)
		out = u32(out, frames)
	}
	if tag == wavFormatFloat {
		out = append(out, "PEAK"...)
		out = u32(out, uint32(8+8*channels))
		out = u32(out, 1) // version
		out = u32(out, uint32(now.Unix()))
		for c := 0; c < channels; c++ {
			var peak float32
			var position uint32
			for i := 0; i < int(frames); i++ {
				v := math.Float32frombits(le.Uint32(p.Data[4*(i*channels+c):]))
				if a := float32(math.Abs(float64(v))); a > peak {
					peak, position = a, uint32(i)
				}
			}
			out = u32(out, math.Float32bits(peak))
			out = u32(out, position)
		}
	}
	out = append(out, "data"...)
	out = u32(out, uint32(len(p.Data)))
	out = append(out, p.Data...)
	if len(p.Data)%2 == 1 {
		out = append(out, 0)
	}
	le.PutUint32(out[4:8], uint32(len(out)-8))
	return out, nil
}
