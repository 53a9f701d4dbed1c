// The executor runs tasks on a fixed pool with flush-to-zero set, and its queue is bounded.
#include "service/executor.h"

#include <pthread.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "gtest/gtest.h"

namespace audioproc {
namespace {

class FunctionTask : public Runnable {
 public:
  explicit FunctionTask(std::function<void()> fn) : fn_(std::move(fn)) {}
  void Run() override { fn_(); }

 private:
  std::function<void()> fn_;
};

TEST(ExecutorTest, WorkersRunWithFlushToZeroAndDenormalsAreZero) {
  std::atomic<int> with_ftz{0};
  absl::Notification done[4];
  std::vector<std::unique_ptr<FunctionTask>> tasks;
  // Declared after what the tasks use, so that its workers are joined before that goes.
  Executor executor(2, 16);
  for (absl::Notification& notification : done) {
    tasks.push_back(std::make_unique<FunctionTask>([&with_ftz, &notification] {
      if (FlushToZeroEnabled()) ++with_ftz;
      // A denormal product must flush to zero on this thread.
      volatile float tiny = 1e-30f;
      volatile float product = tiny * 1e-10f;
      if (product == 0.0f) ++with_ftz;
      notification.Notify();
    }));
    ASSERT_TRUE(executor.Submit(tasks.back().get()));
  }
  for (auto& notification : done) notification.WaitForNotification();
  EXPECT_EQ(with_ftz.load(), 8);
}

// A profile (perf, top -H) tells the pools apart by their threads' names.
TEST(ExecutorTest, WorkersAreNamedByTheirPool) {
  std::string real_time_name, bulk_name;
  absl::Notification real_time_done, bulk_done;
  auto name_of_this_thread = [](std::string& name, absl::Notification& done) {
    char buffer[16] = {};
    pthread_getname_np(pthread_self(), buffer, sizeof buffer);
    name = buffer;
    done.Notify();
  };
  FunctionTask real_time([&] { name_of_this_thread(real_time_name, real_time_done); });
  FunctionTask bulk([&] { name_of_this_thread(bulk_name, bulk_done); });
  Executor executor(1, 4, 1, "stream-with-a-long-name");
  ASSERT_TRUE(executor.Submit(&real_time));
  ASSERT_TRUE(executor.Submit(&bulk, Executor::Priority::kBulk));
  real_time_done.WaitForNotification();
  bulk_done.WaitForNotification();
  EXPECT_EQ(real_time_name, "stream-with-a-l");  // the kernel keeps 15 characters
  EXPECT_EQ(bulk_name, "stream-with-a-l");
  std::string short_bulk_name;
  absl::Notification short_bulk_done;
  FunctionTask short_bulk([&] { name_of_this_thread(short_bulk_name, short_bulk_done); });
  Executor short_names(1, 4, 1, "stream");  // after its task, as above
  ASSERT_TRUE(short_names.Submit(&short_bulk, Executor::Priority::kBulk));
  short_bulk_done.WaitForNotification();
  EXPECT_EQ(short_bulk_name, "stream-bulk");
}

// Under full cores the kernel favours real-time workers over bulk ones.
TEST(ExecutorTest, BulkWorkersRunNicerThanTheProcess) {
  const int process_nice = getpriority(PRIO_PROCESS, 0);
  std::atomic<int> real_time_nice{-100}, bulk_nice{-100};
  absl::Notification real_time_done, bulk_done;
  FunctionTask real_time([&] {
    real_time_nice = getpriority(PRIO_PROCESS, gettid());
    real_time_done.Notify();
  });
  FunctionTask bulk([&] {
    bulk_nice = getpriority(PRIO_PROCESS, gettid());
    bulk_done.Notify();
  });
  Executor executor(1, 4, 1);  // after the tasks, so joined before they go
  ASSERT_TRUE(executor.Submit(&real_time));
  ASSERT_TRUE(executor.Submit(&bulk, Executor::Priority::kBulk));
  real_time_done.WaitForNotification();
  bulk_done.WaitForNotification();
  EXPECT_EQ(real_time_nice, process_nice);
  EXPECT_EQ(bulk_nice, std::min(19, process_nice + kBulkWorkerNice));
}

TEST(ExecutorTest, SubmitRefusesPastCapacity) {
  absl::Notification release;
  absl::Notification started;
  FunctionTask blocker([&] {
    started.Notify();
    release.WaitForNotification();
  });
  FunctionTask noop([] {});
  // Declared after the tasks: its destructor runs the queued noops, which must still exist.
  Executor executor(1, 2);
  ASSERT_TRUE(executor.Submit(&blocker));
  started.WaitForNotification();  // the worker holds the blocker; the queue is empty
  EXPECT_TRUE(executor.Submit(&noop));
  EXPECT_TRUE(executor.Submit(&noop));
  EXPECT_FALSE(executor.Submit(&noop));
  EXPECT_EQ(executor.queue_depth(), 2u);
  release.Notify();
}

TEST(ExecutorTest, TasksQueuedBeforeDestructionStillRun) {
  std::atomic<int> ran{0};
  FunctionTask task([&] { ++ran; });
  {
    Executor executor(1, 64);
    for (int i = 0; i < 32; ++i) ASSERT_TRUE(executor.Submit(&task));
  }
  EXPECT_EQ(ran.load(), 32);
}

TEST(ExecutorTest, RealTimeTasksRunBeforeQueuedBulkTasks) {
  absl::Notification release;
  absl::Notification started;
  absl::Mutex mu;
  std::vector<char> order;
  FunctionTask blocker([&] {
    started.Notify();
    release.WaitForNotification();
  });
  auto record = [&](char name) {
    absl::MutexLock lock(&mu);
    order.push_back(name);
  };
  FunctionTask bulk_a([&] { record('a'); });
  FunctionTask bulk_b([&] { record('b'); });
  FunctionTask real_time([&] { record('r'); });
  {
    Executor executor(1, 16);  // no bulk workers: one worker serves both queues
    ASSERT_TRUE(executor.Submit(&blocker));
    started.WaitForNotification();
    ASSERT_TRUE(executor.Submit(&bulk_a, Executor::Priority::kBulk));
    ASSERT_TRUE(executor.Submit(&bulk_b, Executor::Priority::kBulk));
    ASSERT_TRUE(executor.Submit(&real_time, Executor::Priority::kRealTime));
    EXPECT_EQ(executor.queue_depth(), 3u);
    release.Notify();
  }
  EXPECT_EQ(order, (std::vector<char>{'r', 'a', 'b'}));
}

TEST(ExecutorTest, BulkTasksNeverHoldUpRealTimeOnesWhenThereAreBulkWorkers) {
  absl::Notification release;
  absl::Notification bulk_started;
  absl::Notification real_time_ran;
  FunctionTask long_bulk([&] {
    bulk_started.Notify();
    release.WaitForNotification();
  });
  FunctionTask queued_bulk([] {});
  FunctionTask real_time([&] { real_time_ran.Notify(); });
  Executor executor(1, 16, /*bulk_workers=*/1);
  ASSERT_TRUE(executor.Submit(&long_bulk, Executor::Priority::kBulk));
  bulk_started.WaitForNotification();  // the bulk worker is taken
  ASSERT_TRUE(executor.Submit(&queued_bulk, Executor::Priority::kBulk));
  ASSERT_TRUE(executor.Submit(&real_time, Executor::Priority::kRealTime));
  // Runs on the real-time worker while the bulk worker is still busy.
  EXPECT_TRUE(real_time_ran.WaitForNotificationWithTimeout(absl::Seconds(10)));
  EXPECT_EQ(executor.queue_depth(), 1u);  // only the bulk task waits
  release.Notify();
}

TEST(ExecutorTest, RunHereRunsOnTheCallingThreadWithFlushToZeroOnlyWhileNothingIsQueued) {
  std::thread::id ran_on;
  bool flushed = false;
  FunctionTask here([&] {
    ran_on = std::this_thread::get_id();
    flushed = FlushToZeroEnabled();
  });
  absl::Notification release;
  absl::Notification started;
  FunctionTask blocker([&] {
    started.Notify();
    release.WaitForNotification();
  });
  FunctionTask queued([] {});
  // Declared after the tasks, so that its workers are joined before they go.
  Executor executor(1, 16);
  EXPECT_TRUE(executor.IdleForRunHere());
  const uint64_t before = executor.tasks_run();
  executor.RunHere(&here);
  EXPECT_EQ(ran_on, std::this_thread::get_id());
  EXPECT_TRUE(flushed);
  EXPECT_EQ(executor.tasks_run(), before + 1);

  // A task waiting for the (busy) worker: nothing may overtake it.
  ASSERT_TRUE(executor.Submit(&blocker));
  started.WaitForNotification();
  ASSERT_TRUE(executor.Submit(&queued));
  EXPECT_FALSE(executor.IdleForRunHere());
  release.Notify();
}

TEST(ExecutorTest, BulkTasksWaitingForBulkWorkersDoNotStopRunHere) {
  absl::Notification release;
  absl::Notification started;
  FunctionTask blocker([&] {
    started.Notify();
    release.WaitForNotification();
  });
  FunctionTask queued([] {});
  // Declared after the tasks, so that its workers are joined before they go.
  Executor executor(1, 16, /*bulk_workers=*/1);
  ASSERT_TRUE(executor.Submit(&blocker, Executor::Priority::kBulk));
  started.WaitForNotification();
  ASSERT_TRUE(executor.Submit(&queued, Executor::Priority::kBulk));
  EXPECT_EQ(executor.queue_depth(), 1u);
  EXPECT_TRUE(executor.IdleForRunHere()) << "a real-time chunk need not wait behind bulk work";
  release.Notify();
}

}  // namespace
}  // namespace audioproc
