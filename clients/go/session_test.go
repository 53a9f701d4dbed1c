package audioproc

import (
	"fmt"
	"strings"
	"testing"

	pb "github.com/audioproc/audioproc/clients/go/audioprocpb"
)

// A checkpoint drops the chunks it covers and the updates sent before the last of them; an
// update sent after the last covered chunk stays, as the checkpoint may not hold it.
func TestCheckpointDropsWhatItCovers(t *testing.T) {
	chunk := func(seq uint64) *pb.ProcessRequest {
		return &pb.ProcessRequest{Request: &pb.ProcessRequest_Chunk{Chunk: &pb.AudioChunk{Sequence: seq}}}
	}
	update := func(index uint32) *pb.ProcessRequest {
		return &pb.ProcessRequest{Request: &pb.ProcessRequest_Update{Update: &pb.ChainUpdate{
			Updates: []*pb.ProcessorUpdate{{Index: index}}}}}
	}
	describe := func(held []*pb.ProcessRequest) string {
		var out []string
		for _, r := range held {
			if c := r.GetChunk(); c != nil {
				out = append(out, fmt.Sprintf("c%d", c.GetSequence()))
			} else {
				out = append(out, fmt.Sprintf("u%d", r.GetUpdate().GetUpdates()[0].GetIndex()))
			}
		}
		return strings.Join(out, " ")
	}
	s := &Session{resumable: true, held: []*pb.ProcessRequest{
		chunk(1), update(1), chunk(2), chunk(3), update(2), chunk(4), chunk(5)}}
	for _, step := range []struct {
		sequence uint64
		want     string
	}{{0, "c1 u1 c2 c3 u2 c4 c5"}, {1, "u1 c2 c3 u2 c4 c5"}, {3, "u2 c4 c5"}, {5, ""}} {
		s.keepCheckpointLocked(&pb.Checkpoint{Sequence: step.sequence})
		if got := describe(s.held); got != step.want || s.checkpoint.GetSequence() != step.sequence {
			t.Fatalf("after a checkpoint at %d: held %q, want %q", step.sequence, describe(s.held), step.want)
		}
	}
	// Without resume nothing is kept.
	off := &Session{}
	off.keepCheckpointLocked(&pb.Checkpoint{Sequence: 1})
	if off.checkpoint != nil {
		t.Fatal("a session without resume kept a checkpoint")
	}
}
