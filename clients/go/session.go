package audioproc

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	pb "github.com/audioproc/audioproc/clients/go/audioprocpb"
)

// Result is what a stream gave back. From a Session: Ready, the counts and Summary; from
// Process (which keeps the audio) also Output, Events and Metrics.
type Result struct {
	Ready          *pb.StreamReady // the first call's (a resumed call's says ResumedAfterSequence)
	ChunksSent     uint64
	ChunksAnswered uint64
	Resumes        int // how many times the stream went on on another call (see Session)
	Summary        *pb.StreamSummary
	Output         []byte
	Events         []*pb.Event
	Metrics        []*pb.ChunkMetrics
}

// Session is one Process stream. One goroutine may send (Send, SendFrom, Update, CloseSend;
// these are also safe to call from several goroutines) while another receives (Recv).
//
// Resume: when the config sets CheckpointIntervalMs and the server says Ready().Resumable
// (it has a --resume_key_file), the session keeps the server's last checkpoint and every
// chunk and update sent after it. If the call then ends UNAVAILABLE (the server drains), Recv
// opens a new connection to the same target (so that load balancing picks another replica),
// resumes from the checkpoint (up to 5 attempts, 100 ms apart and doubling, while they fail
// UNAVAILABLE or a replica shutting down cancels them), resends what was held and goes on;
// responses the old server had already sent are dropped, so the caller sees every chunk's
// output once, in order, and the output is byte-identical to an uninterrupted stream's.
// Resumes() counts them. Without a checkpoint (or WithoutResume) UNAVAILABLE ends the stream
// as any other status. What is held is the audio of about one checkpoint interval, or
// everything sent while the call was down.
type Session struct {
	client    *Client
	ctx       context.Context // every call of the stream: the token, the timeout
	cancel    context.CancelFunc
	ready     *pb.StreamReady
	resumable bool

	sendMu     sync.Mutex // Held while sending, and by a resume while it resends.
	sendClosed bool

	// Guards what follows, written by Recv and read by Partial.
	mu         sync.Mutex
	stream     pb.AudioProcessor_ProcessClient // the current call; a resume replaces it
	conn       *grpc.ClientConn                // the last resume's connection (nil: the client's)
	checkpoint *pb.Checkpoint
	held       []*pb.ProcessRequest // sent after checkpoint, in order
	resumes    int
	sent       uint64
	answered   uint64
	gotTail    bool
	summary    *pb.StreamSummary
	done       bool
	err        error
}

// Stream opens a Process stream: it sends config (config.Input must say the encoding, rate
// and channels of the chunks to come) and waits for StreamReady. A config the server
// refuses is an *Error here (codes.InvalidArgument for a bad chain or format,
// codes.ResourceExhausted when the server is full, codes.Unauthenticated without a valid
// token).
func (c *Client) Stream(ctx context.Context, config *pb.StreamConfig) (*Session, error) {
	ctx, cancel := c.callContext(ctx)
	stream, ready, err := open(ctx, c.stub, &pb.ProcessRequest{Request: &pb.ProcessRequest_Config{Config: config}})
	if err != nil {
		cancel()
		return nil, newError("Process", err, &Result{})
	}
	return &Session{client: c, ctx: ctx, cancel: cancel, ready: ready, stream: stream,
		resumable: !c.options.noResume && config.GetCheckpointIntervalMs() > 0 && ready.GetResumable()}, nil
}

// open starts a Process call with `first` (a config or a resume) and waits for StreamReady.
func open(ctx context.Context, stub pb.AudioProcessorClient, first *pb.ProcessRequest) (
	pb.AudioProcessor_ProcessClient, *pb.StreamReady, error) {
	stream, err := stub.Process(ctx)
	if err != nil {
		return nil, nil, err
	}
	if err := stream.Send(first); err != nil {
		// The status comes with the first receive.
		_, err = stream.Recv()
		return nil, nil, orEOF(err)
	}
	response, err := stream.Recv()
	if err != nil {
		return nil, nil, orEOF(err)
	}
	ready := response.GetReady()
	if ready == nil {
		return nil, nil, status.Errorf(codes.Internal, "the server sent %T before StreamReady", response.GetResponse())
	}
	return stream, ready, nil
}

func orEOF(err error) error {
	if err == io.EOF {
		return status.Error(codes.Internal, "the server ended the stream without a status")
	}
	return err
}

// Ready is the server's StreamReady: the resolved chain, the output format, the latency and
// the largest chunk this stream may send (MaxChunkBytes). After a resume still the first's.
func (s *Session) Ready() *pb.StreamReady { return s.ready }

// Resumes is how many times the stream has resumed on a new call after its call ended
// UNAVAILABLE.
func (s *Session) Resumes() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.resumes
}

// Send sends one chunk of audio in the config's input format (whole frames, at most
// Ready().MaxChunkBytes bytes). An error means the stream is over: Recv returns why.
func (s *Session) Send(chunk []byte) error {
	s.sendMu.Lock()
	defer s.sendMu.Unlock()
	if s.sendClosed {
		return errors.New("audioproc: Send after CloseSend")
	}
	s.mu.Lock()
	s.sent++
	sequence := s.sent
	s.mu.Unlock()
	err := s.send(&pb.ProcessRequest{Request: &pb.ProcessRequest_Chunk{
		Chunk: &pb.AudioChunk{Data: chunk, Sequence: sequence}}})
	if err != nil {
		s.mu.Lock()
		s.sent--
		s.mu.Unlock()
	}
	return err
}

// send sends request on the current call, with sendMu held. A resumable session holds it
// until a checkpoint covers it; when the call has ended and a checkpoint is held, the request
// waits there for Recv to resume the stream and resend it, and send says nil.
func (s *Session) send(request *pb.ProcessRequest) error {
	s.mu.Lock()
	if s.done {
		s.mu.Unlock()
		return errors.New("audioproc: the stream is over")
	}
	stream := s.stream
	if s.resumable {
		s.held = append(s.held, request)
	}
	s.mu.Unlock()
	err := stream.Send(request)
	if err != nil {
		s.mu.Lock()
		defer s.mu.Unlock()
		if s.resumable && s.checkpoint != nil && !s.done {
			return nil
		}
	}
	return err
}

// Update changes processors' parameters mid-stream; the outcome comes back as an
// UpdateResult event. Each update names a chain position and a spec whose set fields change.
func (s *Session) Update(updates ...*pb.ProcessorUpdate) error {
	s.sendMu.Lock()
	defer s.sendMu.Unlock()
	if s.sendClosed {
		return errors.New("audioproc: Update after CloseSend")
	}
	return s.send(&pb.ProcessRequest{Request: &pb.ProcessRequest_Update{Update: &pb.ChainUpdate{Updates: updates}}})
}

// UpdateChain is Update from chain text (either form, see ParseChain), one processor per
// position starting at `index`, e.g. UpdateChain(1, "gain:gain_db=-6").
func (s *Session) UpdateChain(index uint32, chain string) error {
	specs, err := ParseChain(chain)
	if err != nil {
		return err
	}
	updates := make([]*pb.ProcessorUpdate, len(specs))
	for i, spec := range specs {
		updates[i] = &pb.ProcessorUpdate{Index: index + uint32(i), Spec: spec}
	}
	return s.Update(updates...)
}

// CloseSend half-closes the stream: the server flushes the chain (the tail chunk) and sends
// the summary.
func (s *Session) CloseSend() error {
	s.sendMu.Lock()
	defer s.sendMu.Unlock()
	if s.sendClosed {
		return nil
	}
	s.sendClosed = true
	s.mu.Lock()
	stream := s.stream
	s.mu.Unlock()
	return stream.CloseSend()
}

// SendFrom sends everything r yields in chunks of chunkBytes (the last may be shorter), as
// it comes (a pipe or a microphone is read live), then half-closes. pace > 0 sends chunk i
// no earlier than i x pace after the first, like a live source.
func (s *Session) SendFrom(r io.Reader, chunkBytes int, pace time.Duration) error {
	if chunkBytes <= 0 {
		return errors.New("audioproc: SendFrom needs a positive chunk size")
	}
	start := time.Now()
	for i := 0; ; i++ {
		buf := make([]byte, chunkBytes)
		n, err := io.ReadFull(r, buf)
		if n > 0 {
			if pace > 0 {
				time.Sleep(time.Until(start.Add(time.Duration(i) * pace)))
			}
			if sendErr := s.Send(buf[:n]); sendErr != nil {
				return nil // The stream is over; Recv says why.
			}
		}
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			return s.CloseSend()
		}
		if err != nil {
			s.CloseSend()
			return err
		}
	}
}

// SendChannel sends each chunk from ch until it is closed, then half-closes.
func (s *Session) SendChannel(ch <-chan []byte) error {
	for chunk := range ch {
		if err := s.Send(chunk); err != nil {
			for range ch { // Let the producer finish; the stream is over and Recv says why.
			}
			return nil
		}
	}
	return s.CloseSend()
}

// Recv returns the next processed chunk (audio in Ready().Output's format, metrics, events)
// as the server sends it; the last one has Tail set. After the tail it reads the summary and
// returns io.EOF; Summary() then holds it. A stream that ends otherwise returns *Error with
// the status and the partial result. A resumable stream whose call ends UNAVAILABLE resumes
// here (see Session).
func (s *Session) Recv() (*pb.ProcessedChunk, error) {
	s.mu.Lock()
	if s.done {
		err := s.err
		s.mu.Unlock()
		if err == nil {
			return nil, io.EOF
		}
		return nil, err
	}
	s.mu.Unlock()
	for {
		response, err := s.stream.Recv()
		if err != nil {
			if err == io.EOF {
				err = status.Error(codes.Internal, "the server ended the stream without a summary")
			}
			s.mu.Lock()
			resume := s.resumable && s.checkpoint != nil && !s.gotTail && status.Code(err) == codes.Unavailable
			s.mu.Unlock()
			if resume {
				if err = s.resume(err); err == nil {
					continue
				}
			}
			return nil, s.finish(err)
		}
		s.mu.Lock()
		switch r := response.GetResponse().(type) {
		case *pb.ProcessResponse_Checkpoint:
			s.keepCheckpointLocked(r.Checkpoint)
			s.mu.Unlock()
		case *pb.ProcessResponse_Chunk:
			chunk := r.Chunk
			if s.gotTail {
				s.mu.Unlock()
				return nil, s.finish(status.Error(codes.Internal, "the server sent a chunk after the tail"))
			}
			if chunk.GetTail() {
				s.gotTail = true
			} else {
				seq := chunk.GetMetrics().GetSequence()
				if s.resumes > 0 && seq <= s.answered {
					s.mu.Unlock() // The old call had sent it already.
					continue
				}
				s.answered++
				if seq != s.answered {
					s.mu.Unlock()
					return nil, s.finish(status.Errorf(codes.Internal,
						"the server sent sequence %d for chunk %d", seq, s.answered))
				}
			}
			s.mu.Unlock()
			return chunk, nil
		case *pb.ProcessResponse_Summary:
			if !s.gotTail {
				s.mu.Unlock()
				return nil, s.finish(status.Error(codes.Internal, "the server sent a summary before the tail chunk"))
			}
			s.summary = r.Summary
			s.mu.Unlock()
			// The call ends after the summary; reading its status releases it.
			if _, err := s.stream.Recv(); err != io.EOF {
				if err == nil {
					err = status.Error(codes.Internal, "the server sent a response after the summary")
				}
				return nil, s.finish(err)
			}
			s.finish(nil)
			return nil, io.EOF
		default:
			s.mu.Unlock()
			return nil, s.finish(status.Errorf(codes.Internal, "the server sent %T mid-stream", r))
		}
	}
}

// keepCheckpointLocked keeps a resumable stream's newest checkpoint and drops the requests
// it covers: chunks up to its sequence and the updates sent before the last of them.
func (s *Session) keepCheckpointLocked(checkpoint *pb.Checkpoint) {
	if !s.resumable {
		return
	}
	s.checkpoint = checkpoint
	covered := 0
	for i, request := range s.held {
		if chunk := request.GetChunk(); chunk != nil && chunk.GetSequence() <= checkpoint.GetSequence() {
			covered = i + 1
		}
	}
	s.held = append([]*pb.ProcessRequest(nil), s.held[covered:]...)
}

// A resume tries at most this many calls while they fail UNAVAILABLE (or CANCELLED by a
// server shutting down, not by the caller), the second resumeDelay after the first, each
// later one twice as long after the one before.
const (
	resumeAttempts = 5
	resumeDelay    = 100 * time.Millisecond
)

// resume goes on with the stream after its call ended with `cause` (UNAVAILABLE): a new
// connection to the client's target, a call that starts with the checkpoint's token, then
// the held requests resent (by a goroutine that holds sendMu meanwhile, while Recv reads the
// answers) and the half-close if the caller had sent it.
func (s *Session) resume(cause error) error {
	s.mu.Lock()
	checkpoint := s.checkpoint
	s.mu.Unlock()
	first := &pb.ProcessRequest{Request: &pb.ProcessRequest_Resume{Resume: &pb.ResumeStream{Token: checkpoint.GetToken()}}}
	var conn *grpc.ClientConn
	var stream pb.AudioProcessor_ProcessClient
	var ready *pb.StreamReady
	delay := resumeDelay
	for attempt := 1; ; attempt++ {
		var err error
		conn, err = grpc.Dial(s.client.target, s.client.dialOptions...)
		if err == nil {
			stream, ready, err = open(s.ctx, pb.NewAudioProcessorClient(conn), first)
			if err == nil {
				break
			}
			conn.Close()
		}
		code := status.Code(err)
		retry := code == codes.Unavailable || (code == codes.Canceled && s.ctx.Err() == nil)
		if !retry || attempt == resumeAttempts {
			return status.Errorf(status.Code(err), "resuming after chunk %d (attempt %d; the stream had ended %s: %s): %s",
				checkpoint.GetSequence(), attempt, CodeName(status.Code(cause)), status.Convert(cause).Message(),
				status.Convert(err).Message())
		}
		select {
		case <-time.After(delay):
			delay *= 2
		case <-s.ctx.Done():
			return status.FromContextError(s.ctx.Err()).Err()
		}
	}
	if ready.GetResumedAfterSequence() != checkpoint.GetSequence() {
		conn.Close()
		return status.Errorf(codes.Internal, "the server resumed after chunk %d, the checkpoint was after chunk %d",
			ready.GetResumedAfterSequence(), checkpoint.GetSequence())
	}
	s.sendMu.Lock() // Released by the goroutine below once it has resent what is held.
	s.mu.Lock()
	old := s.conn
	s.stream, s.conn = stream, conn
	s.resumes++
	held := s.held
	s.mu.Unlock()
	if old != nil {
		old.Close()
	}
	closed := s.sendClosed
	go func() {
		defer s.sendMu.Unlock()
		for _, request := range held {
			if stream.Send(request) != nil {
				return // The call is over; Recv says why (and may resume again).
			}
		}
		if closed {
			stream.CloseSend()
		}
	}()
	return nil
}

func (s *Session) finish(err error) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.done {
		return s.err
	}
	s.done = true
	if err != nil {
		s.err = newError("Process", err, s.partialLocked())
	}
	s.cancel()
	if s.conn != nil {
		s.conn.Close()
	}
	return s.err
}

// Summary is the StreamSummary, once Recv has returned io.EOF (nil before).
func (s *Session) Summary() *pb.StreamSummary {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.summary
}

// Partial is what the stream has done so far.
func (s *Session) Partial() *Result {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.partialLocked()
}

func (s *Session) partialLocked() *Result {
	return &Result{Ready: s.ready, ChunksSent: s.sent, ChunksAnswered: s.answered, Resumes: s.resumes,
		Summary: s.summary}
}

// Cancel ends the stream at once (the server sees codes.Canceled).
func (s *Session) Cancel() { s.cancel() }

// Process streams pcm (whole frames in config.Input's format) in chunks of chunkFrames
// frames, paced like a live source when realtime is set, and returns everything the server
// sent back: the output audio, events, per-chunk metrics and the summary. On error the
// *Error's Partial holds what came before it.
func (c *Client) Process(ctx context.Context, config *pb.StreamConfig, pcm []byte, chunkFrames int,
	realtime bool) (*Result, error) {
	frameBytes := BytesPerFrame(config.GetInput())
	if frameBytes == 0 || config.GetInput().GetSampleRateHz() == 0 || chunkFrames <= 0 {
		return nil, &Error{Op: "Process", Status: status.New(codes.InvalidArgument,
			"StreamConfig.input needs an encoding, a sample rate and channels"), Partial: &Result{}}
	}
	session, err := c.Stream(ctx, config)
	if err != nil {
		return nil, err
	}
	var pace time.Duration
	if realtime {
		pace = time.Duration(float64(chunkFrames) / float64(config.GetInput().GetSampleRateHz()) * float64(time.Second))
	}
	go session.SendFrom(bytesReader(pcm), chunkFrames*frameBytes, pace)
	result := &Result{Ready: session.Ready()}
	for {
		chunk, err := session.Recv()
		if err == io.EOF {
			break
		}
		if err != nil {
			e := err.(*Error)
			partial := e.Partial
			partial.Output, partial.Events, partial.Metrics = result.Output, result.Events, result.Metrics
			return result, e
		}
		result.Output = append(result.Output, chunk.GetData()...)
		result.Events = append(result.Events, chunk.GetEvents()...)
		result.Metrics = append(result.Metrics, chunk.GetMetrics())
	}
	partial := session.Partial()
	result.ChunksSent, result.ChunksAnswered, result.Summary = partial.ChunksSent, partial.ChunksAnswered, partial.Summary
	result.Resumes = partial.Resumes
	if result.ChunksAnswered != result.ChunksSent {
		return result, &Error{Op: "Process", Status: status.New(codes.Internal, fmt.Sprintf(
			"the server answered %d of %d chunks", result.ChunksAnswered, result.ChunksSent)), Partial: result}
	}
	return result, nil
}

type sliceReader struct{ b []byte }

func bytesReader(b []byte) *sliceReader { return &sliceReader{b} }

func (r *sliceReader) Read(p []byte) (int, error) {
	if len(r.b) == 0 {
		return 0, io.EOF
	}
	n := copy(p, r.b)
	r.b = r.b[n:]
	return n, nil
}
