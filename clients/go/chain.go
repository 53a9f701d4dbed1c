package audioproc

// Processing chains as the command-line tools take them (DESIGN.md section 3, "One-line
// chains"), the same two forms as clients/chain_parser.cc and clients/python:
//
//	one-line:  highpass:cutoff_hz=80,gain:gain_db=6,limiter:ceiling_db=-1
//	JSON:      [{"highpass":{"cutoffHz":80}},{"limiter":{"ceilingDb":-1}}]   (a chain)
//	           {"chain":[...],"output":{"sampleRateHz":8000}}         (a StreamConfig)
//
// The one-line form is read through protobuf reflection, not a table: a processor name is a
// field of ProcessorSpec's `processor` oneof and a parameter name is a field of that
// processor's message, so processors and parameters added to the proto work here unchanged.
// Repeated, nested and bytes parameters exist only in the JSON form. Ranges and required
// parameters are the server's to check.

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	pb "github.com/audioproc/audioproc/clients/go/audioprocpb"
)

// ChainError is a chain that cannot be parsed; its message says where and why, in the
// words of the C++ parser.
type ChainError struct{ Message string }

func (e *ChainError) Error() string { return e.Message }

func chainErrorf(format string, args ...interface{}) error {
	return &ChainError{Message: fmt.Sprintf(format, args...)}
}

func processorOneof() protoreflect.OneofDescriptor {
	oneof := (&pb.ProcessorSpec{}).ProtoReflect().Descriptor().Oneofs().ByName("processor")
	if oneof == nil {
		// The generated code and this file disagree about the proto: a build problem.
		panic("audioproc.v1.ProcessorSpec has no oneof 'processor'")
	}
	return oneof
}

func processorNames() string {
	fields := processorOneof().Fields()
	names := make([]string, fields.Len())
	for i := range names {
		names[i] = string(fields.Get(i).Name())
	}
	return strings.Join(names, ", ")
}

func fieldNames(md protoreflect.MessageDescriptor) string {
	fields := md.Fields()
	if fields.Len() == 0 {
		return "none"
	}
	names := make([]string, fields.Len())
	for i := range names {
		names[i] = string(fields.Get(i).Name())
	}
	return strings.Join(names, ", ")
}

// oneLineRestriction says why the one-line form cannot carry field, or "" if it can.
func oneLineRestriction(fd protoreflect.FieldDescriptor) string {
	switch {
	case fd.IsList() || fd.IsMap():
		return "is a list"
	case fd.Kind() == protoreflect.MessageKind || fd.Kind() == protoreflect.GroupKind:
		return "is nested"
	case fd.Kind() == protoreflect.BytesKind:
		return "is binary"
	}
	return ""
}

func parseInteger(text string, bits int, signed bool) (uint64, int64, error) {
	t := text
	if signed {
		v, err := strconv.ParseInt(t, 10, bits)
		if err == nil {
			return 0, v, nil
		}
		lo, hi := int64(-1)<<(bits-1), int64(1)<<(bits-1)-1
		return 0, 0, fmt.Errorf("'%s' is not a whole number in [%d, %d]", text, lo, hi)
	}
	t = strings.TrimPrefix(t, "+") // absl::SimpleAtoi takes a leading '+'.
	v, err := strconv.ParseUint(t, 10, bits)
	if err == nil && !strings.HasPrefix(t, "+") && !strings.HasPrefix(t, "-") {
		return v, 0, nil
	}
	hi := uint64(1)<<bits - 1
	if bits == 64 {
		hi = math.MaxUint64
	}
	return 0, 0, fmt.Errorf("'%s' is not a whole number in [0, %d]", text, hi)
}

// SetScalarField sets one scalar field of m from its text form: numbers (decimal; floats
// must be finite), bools as true/false/1/0 (any case), enums by value name (any case),
// strings as they are.
func SetScalarField(m protoreflect.Message, fd protoreflect.FieldDescriptor, text string) error {
	if r := oneLineRestriction(fd); r != "" {
		return fmt.Errorf("%s %s", fd.Name(), r)
	}
	switch fd.Kind() {
	case protoreflect.FloatKind, protoreflect.DoubleKind:
		// ParseFloat would also take hexadecimal and digits split by underscores, which JSON and
		// people do not write.
		if strings.ContainsAny(text, "xX_") {
			return fmt.Errorf("'%s' is not a number", text)
		}
		value, err := strconv.ParseFloat(text, 64)
		if err != nil && !isRangeError(err) {
			return fmt.Errorf("'%s' is not a number", text)
		}
		isFloat := fd.Kind() == protoreflect.FloatKind
		if math.IsInf(value, 0) || math.IsNaN(value) ||
			(isFloat && math.IsInf(float64(float32(value)), 0)) {
			return fmt.Errorf("'%s' is not a finite number", text)
		}
		if isFloat {
			// Parsed again as float32 so the value is the float nearest to the text (what a
			// JSON chain would give), not a double rounded twice.
			f, _ := strconv.ParseFloat(text, 32)
			m.Set(fd, protoreflect.ValueOfFloat32(float32(f)))
		} else {
			m.Set(fd, protoreflect.ValueOfFloat64(value))
		}
	case protoreflect.Int32Kind, protoreflect.Sint32Kind, protoreflect.Sfixed32Kind:
		_, v, err := parseInteger(text, 32, true)
		if err != nil {
			return err
		}
		m.Set(fd, protoreflect.ValueOfInt32(int32(v)))
	case protoreflect.Int64Kind, protoreflect.Sint64Kind, protoreflect.Sfixed64Kind:
		_, v, err := parseInteger(text, 64, true)
		if err != nil {
			return err
		}
		m.Set(fd, protoreflect.ValueOfInt64(v))
	case protoreflect.Uint32Kind, protoreflect.Fixed32Kind:
		v, _, err := parseInteger(text, 32, false)
		if err != nil {
			return err
		}
		m.Set(fd, protoreflect.ValueOfUint32(uint32(v)))
	case protoreflect.Uint64Kind, protoreflect.Fixed64Kind:
		v, _, err := parseInteger(text, 64, false)
		if err != nil {
			return err
		}
		m.Set(fd, protoreflect.ValueOfUint64(v))
	case protoreflect.BoolKind:
		lower := strings.ToLower(text)
		if lower != "true" && lower != "false" && lower != "1" && lower != "0" {
			return fmt.Errorf("'%s' is not a bool (true, false, 1 or 0)", text)
		}
		m.Set(fd, protoreflect.ValueOfBool(lower == "true" || lower == "1"))
	case protoreflect.EnumKind:
		values := fd.Enum().Values()
		value := values.ByName(protoreflect.Name(strings.ToUpper(text)))
		if value == nil {
			value = values.ByName(protoreflect.Name(text))
		}
		if value == nil {
			names := make([]string, values.Len())
			for i := range names {
				names[i] = string(values.Get(i).Name())
			}
			return fmt.Errorf("'%s' is not one of %s", text, strings.Join(names, ", "))
		}
		m.Set(fd, protoreflect.ValueOfEnum(value.Number()))
	case protoreflect.StringKind:
		m.Set(fd, protoreflect.ValueOfString(text))
	default:
		return fmt.Errorf("%s is not a scalar", fd.Name())
	}
	return nil
}

func isRangeError(err error) bool {
	numErr, ok := err.(*strconv.NumError)
	return ok && numErr.Err == strconv.ErrRange
}

// parseSegment reads one processor of the one-line form, `name[:param=value]...`, at chain
// position index.
func parseSegment(segment string, index int) (*pb.ProcessorSpec, error) {
	where := fmt.Sprintf("chain[%d]", index)
	tokens := strings.Split(segment, ":")
	name := strings.TrimSpace(tokens[0])
	if name == "" {
		if len(tokens) == 1 {
			return nil, chainErrorf("%s: empty processor (a leading, trailing or doubled ',')", where)
		}
		return nil, chainErrorf("%s: missing processor name before ':'", where)
	}
	spec := &pb.ProcessorSpec{}
	specMsg := spec.ProtoReflect()
	processor := specMsg.Descriptor().Fields().ByName(protoreflect.Name(name))
	if processor == nil || processor.ContainingOneof() != processorOneof() {
		return nil, chainErrorf("%s: unknown processor '%s' (known: %s)", where, name, processorNames())
	}
	params := specMsg.Mutable(processor).Message()
	paramsDesc := params.Descriptor()
	seen := map[protoreflect.FieldNumber]bool{}
	for _, raw := range tokens[1:] {
		token := strings.TrimSpace(raw)
		if token == "" {
			return nil, chainErrorf("%s: %s: empty parameter (a stray ':')", where, name)
		}
		equals := strings.IndexByte(token, '=')
		if equals < 0 {
			return nil, chainErrorf("%s: %s: parameter '%s' has no '=' and value", where, name, token)
		}
		key := strings.TrimSpace(token[:equals])
		value := strings.TrimSpace(token[equals+1:])
		if key == "" {
			return nil, chainErrorf("%s: %s: parameter name missing before '='", where, name)
		}
		field := paramsDesc.Fields().ByName(protoreflect.Name(key))
		if field == nil {
			return nil, chainErrorf("%s: %s has no parameter '%s' (%s takes: %s)", where, name, key,
				name, fieldNames(paramsDesc))
		}
		param := name + "." + key
		if r := oneLineRestriction(field); r != "" {
			return nil, chainErrorf("%s: %s %s, which the one-line form cannot carry: give the "+
				"chain as JSON, e.g. [{\"%s\":{\"%s\":...}}]", where, param, r, name, field.JSONName())
		}
		if seen[field.Number()] {
			return nil, chainErrorf("%s: %s is given twice", where, param)
		}
		seen[field.Number()] = true
		if value == "" {
			return nil, chainErrorf("%s: %s: no value after '='", where, param)
		}
		if err := SetScalarField(params, field, value); err != nil {
			return nil, chainErrorf("%s: %s: %v", where, param, err)
		}
	}
	return spec, nil
}

func parseOneLine(text string) ([]*pb.ProcessorSpec, error) {
	chain := []*pb.ProcessorSpec{}
	if strings.TrimSpace(text) == "" {
		return chain, nil
	}
	for i, segment := range strings.Split(text, ",") {
		spec, err := parseSegment(segment, i)
		if err != nil {
			return nil, err
		}
		chain = append(chain, spec)
	}
	return chain, nil
}

func parseJSONConfig(json, what string) (*pb.StreamConfig, error) {
	config := &pb.StreamConfig{}
	if err := protojson.Unmarshal([]byte(json), config); err != nil {
		return nil, chainErrorf("invalid JSON %s: %v", what, err)
	}
	return config, nil
}

// hasMoreThanChain reports whether config sets anything besides its chain.
func hasMoreThanChain(config *pb.StreamConfig) bool {
	rest := proto.Clone(config).(*pb.StreamConfig)
	rest.Chain = nil
	return proto.Size(rest) != 0
}

// ParseStreamConfig reads a --chain flag: the one-line form, a JSON chain array, or a whole
// JSON StreamConfig. Errors are *ChainError.
func ParseStreamConfig(text string) (*pb.StreamConfig, error) {
	trimmed := strings.TrimSpace(text)
	if strings.HasPrefix(trimmed, "{") {
		return parseJSONConfig(trimmed, "StreamConfig")
	}
	if strings.HasPrefix(trimmed, "[") {
		config, err := parseJSONConfig(`{"chain":`+trimmed+`}`, "chain")
		if err != nil {
			return nil, err
		}
		// Wrapping lets `[...], "streamId": "x"` through as valid JSON; it is not an array.
		if hasMoreThanChain(config) {
			return nil, chainErrorf("invalid JSON chain: not a single JSON array")
		}
		return config, nil
	}
	chain, err := parseOneLine(trimmed)
	if err != nil {
		return nil, err
	}
	return &pb.StreamConfig{Chain: chain}, nil
}

// ParseChain reads a chain in either form; a JSON StreamConfig that sets more than its
// chain is refused. Use it for updates and ProcessFile, where only a chain is meant.
func ParseChain(text string) ([]*pb.ProcessorSpec, error) {
	config, err := ParseStreamConfig(text)
	if err != nil {
		return nil, err
	}
	if hasMoreThanChain(config) {
		return nil, chainErrorf("this JSON StreamConfig sets more than its chain, which is all " +
			"that is accepted here: give a chain")
	}
	return config.Chain, nil
}

// FormatChain renders a chain in the one-line form, as the C++ client prints StreamReady's
// (lists in brackets, bytes as their size).
func FormatChain(chain []*pb.ProcessorSpec) string {
	segments := make([]string, 0, len(chain))
	for _, spec := range chain {
		m := spec.ProtoReflect()
		processor := m.WhichOneof(processorOneof())
		if processor == nil {
			segments = append(segments, "(none)")
			continue
		}
		segment := string(processor.Name())
		params := m.Get(processor).Message()
		fields := params.Descriptor().Fields()
		for i := 0; i < fields.Len(); i++ {
			fd := fields.Get(i)
			if !params.Has(fd) {
				continue
			}
			segment += ":" + string(fd.Name()) + "="
			if fd.IsList() {
				list := params.Get(fd).List()
				items := make([]string, list.Len())
				for j := range items {
					items[j] = formatValue(fd, list.Get(j))
				}
				segment += "[" + strings.Join(items, " ") + "]"
			} else {
				segment += formatValue(fd, params.Get(fd))
			}
		}
		segments = append(segments, segment)
	}
	return strings.Join(segments, ",")
}

func formatValue(fd protoreflect.FieldDescriptor, v protoreflect.Value) string {
	switch fd.Kind() {
	case protoreflect.FloatKind:
		return strconv.FormatFloat(v.Float(), 'g', -1, 32)
	case protoreflect.DoubleKind:
		return strconv.FormatFloat(v.Float(), 'g', -1, 64)
	case protoreflect.BoolKind:
		return strconv.FormatBool(v.Bool())
	case protoreflect.EnumKind:
		if value := fd.Enum().Values().ByNumber(v.Enum()); value != nil {
			return string(value.Name())
		}
		return strconv.Itoa(int(v.Enum()))
	case protoreflect.BytesKind:
		return fmt.Sprintf("<%d bytes>", len(v.Bytes()))
	case protoreflect.StringKind:
		return v.String()
	case protoreflect.MessageKind, protoreflect.GroupKind:
		text, _ := protojson.Marshal(v.Message().Interface())
		return string(text)
	}
	return fmt.Sprint(v.Interface())
}
