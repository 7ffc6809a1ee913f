// run_process, the helper runner behind docker credential helpers: input and output,
// exit codes, a missing program, a deadline, too much output, and a child that stops
// reading its input (which must not kill the test with SIGPIPE).
#include "registry/subprocess.hpp"

#include <knast/error.hpp>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace {

using knast::Error;
using knast::ErrorCode;
using knast::registry_detail::run_process;
using namespace std::chrono_literals;

TEST(RunProcess, InputOutputAndExitCode) {
  const auto result = run_process({"/bin/sh", "-c", "cat; echo oops >&2; exit 3"}, "server.example\n", 10s);
  EXPECT_EQ(result.exit_code, 3);
  EXPECT_EQ(result.out, "server.example\n");
  EXPECT_EQ(result.err, "oops\n");
}

TEST(RunProcess, LookedUpInPath) {
  EXPECT_EQ(run_process({"echo", "hello"}, "", 10s).out, "hello\n");
}

TEST(RunProcess, MissingProgramIsNotFound) {
  try {
    run_process({"knast-no-such-program-here"}, "x", 10s);
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorCode::not_found);
    EXPECT_THAT(e.what(), ::testing::HasSubstr("knast-no-such-program-here"));
  }
}

TEST(RunProcess, DeadlineKillsAndReaps) {
  const auto start = std::chrono::steady_clock::now();
  try {
    run_process({"/bin/sh", "-c", "exec sleep 30"}, "", 200ms);
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorCode::io);
  }
  EXPECT_LT(std::chrono::steady_clock::now() - start, 5s);
}

TEST(RunProcess, TooMuchOutputIsRefused) {
  try {
    run_process({"/bin/sh", "-c", "head -c 2000000 /dev/zero"}, "", 10s);
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorCode::limit_exceeded);
  }
}

TEST(RunProcess, ChildThatIgnoresItsInput) {
  // More input than a socket buffer holds, to a child that never reads it.
  const std::string input(4u << 20, 'x');
  const auto result = run_process({"/bin/sh", "-c", "exit 0"}, input, 10s);
  EXPECT_EQ(result.exit_code, 0);
}

}  // namespace
