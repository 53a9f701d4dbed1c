// budget_attacker: heavy attacks on a server, from a process of their own at the lowest CPU
// priority, for tests/fault/budget_attack_test.cc. In production an attacker's own CPU is
// another machine's; here it shares two cores with the server and the bystander, and a
// client process busy with hundreds of streams would otherwise delay the bystander's own
// client threads, which measures the test machine rather than the server.
//
//   budget_attacker --port=P --attack=stalled|flood --streams=N --out=FILE
//
// stalled: N streams of 48 kHz stereo f32 that write 1 MiB chunks as fast as they can and
//   stop reading after their first answer, until all are open (or refused) and no writer has
//   got a chunk through for a second (the server stopped reading them all), or --hold_s have
//   passed; then they cancel.
// flood:   N streams of 16 kHz mono s16, four 1 MiB chunks each as fast as they can, read.
// FILE gets "admitted=A refused=R other=O" and the first other status, for the test.
#include <sched.h>
#include <sys/resource.h>

#include <atomic>
#include <cstdio>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "tests/testing/process_exchange.h"
#include "tests/testing/recorded_stream.h"

ABSL_FLAG(int, port, 0, "The server's gRPC port on 127.0.0.1.");
ABSL_FLAG(std::string, attack, "flood", "stalled or flood.");
ABSL_FLAG(int, streams, 64, "Concurrent streams.");
ABSL_FLAG(double, hold_s, 20, "stalled: the most seconds the readers stay stalled.");
ABSL_FLAG(std::string, out, "", "Where the summary goes.");

namespace audioproc {
namespace {

using testing::MakeConfig;
using testing::RunStream;
using testing::StreamPlan;
using testing::StreamRecord;

int Run() {
  // The attackers stand for clients on other machines: here they take only the CPU nobody else
  // wants. Nice 19 is not enough with hundreds of stream threads (each weighs 15 against a
  // nice-0 thread's 1024, and 300 runnable weigh four of them) and does not stop them holding
  // a core while the bystander's client or the server wakes; SCHED_IDLE threads give way to
  // any other at once. Threads inherit both.
  setpriority(PRIO_PROCESS, 0, 19);
  sched_param idle{};
  sched_setscheduler(0, SCHED_IDLE, &idle);
  const bool stalled = absl::GetFlag(FLAGS_attack) == "stalled";
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(64 << 20);
  if (stalled) {
    // A reader stalled for real: without these, gRPC's client goes on taking the server's
    // answers into its own memory after the application stops reading (its flow-control
    // window grows with the bandwidth it measures): 2.2 GB in 8 s, measured, which made this a
    // flood with reading (the next attack) and its host's paging stall every process.
    args.SetInt(GRPC_ARG_HTTP2_BDP_PROBE, 0);
    args.SetInt(GRPC_ARG_HTTP2_STREAM_LOOKAHEAD_BYTES, 65536);
  }
  auto stub = v1::AudioProcessor::NewStub(
      grpc::CreateCustomChannel(absl::StrCat("127.0.0.1:", absl::GetFlag(FLAGS_port)),
                                grpc::InsecureChannelCredentials(), args));
  const int streams = absl::GetFlag(FLAGS_streams);
  const absl::Time deadline = absl::Now() + absl::Seconds(absl::GetFlag(FLAGS_hold_s));
  std::atomic<uint64_t> written{0};
  std::atomic<int> started{0};  // streams that got `ready`, or ended without it
  absl::Notification release;
  std::vector<StreamRecord> records(streams);
  std::vector<std::thread> threads;
  for (int i = 0; i < streams; ++i) {
    threads.emplace_back([&, i] {
      StreamPlan plan;
      plan.deadline = absl::Seconds(120);
      if (stalled) {
        plan.config = MakeConfig(v1::PCM_F32LE, 48000, 2, R"([{"gain":{"gainDb":-3}}])");
        // One chunk written 64 times: 64 copies in each of 64 streams would make the attacker
        // touch 4 GiB, and on a small VM the host's work behind that stalls every process,
        // the bystander's client included, which says nothing about the server.
        plan.chunks.assign(1, std::string(1 << 20, '\0'));
        plan.repeat = 64;
        plan.written = &written;
        plan.before_chunks = [&] { started.fetch_add(1); };
        plan.on_answer = [&](uint64_t answered, grpc::ClientContext& context) {
          if (answered != 1) return;
          release.WaitForNotification();  // a reader that stops reading, a while
          context.TryCancel();
        };
      } else {
        plan.config = MakeConfig(v1::PCM_S16LE, 16000, 1, "[]");
        plan.chunks.assign(1, std::string(1 << 20, '\0'));
        plan.repeat = 4;
      }
      records[i] = RunStream(*stub, plan);
      if (!records[i].ready) started.fetch_add(1);
    });
  }
  if (stalled) {
    // Every stream open (or refused) at once, then the writers pushing until none gets a
    // chunk through: watching their progress, which is all a client can do.
    uint64_t last = 0;
    absl::Time last_progress = absl::Now();
    while (absl::Now() < deadline &&
           (started.load() < streams || absl::Now() - last_progress < absl::Seconds(1))) {
      absl::SleepFor(absl::Milliseconds(100));
      if (const uint64_t now = written.load(); now != last) {
        last = now;
        last_progress = absl::Now();
      }
    }
    release.Notify();
  }
  for (std::thread& thread : threads) thread.join();
  int admitted = 0, refused = 0, other = 0;
  std::string first_other;
  for (const StreamRecord& record : records) {
    const bool expected_end = record.status.ok() || (stalled && record.status.error_code() ==
                                                                    grpc::StatusCode::CANCELLED);
    if (record.ready && expected_end) {
      ++admitted;
    } else if (!record.ready &&
               record.status.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED &&
               record.status.error_message().find("--memory_budget_bytes") != std::string::npos) {
      ++refused;
    } else {
      ++other;
      if (first_other.empty()) {
        first_other =
            std::to_string(record.status.error_code()) + " " + record.status.error_message();
      }
    }
  }
  std::ofstream(absl::GetFlag(FLAGS_out))
      << "admitted=" << admitted << " refused=" << refused << " other=" << other << "\n"
      << first_other << "\n";
  return 0;
}

}  // namespace
}  // namespace audioproc

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  return audioproc::Run();
}
