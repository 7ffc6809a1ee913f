#include <knast/error.hpp>

#include <gtest/gtest.h>

#include <cerrno>

namespace {

using knast::Error;
using knast::ErrorCode;

TEST(Error, CarriesCodeAndExactMessage) {
  Error e(ErrorCode::not_found, "image docker.io/library/x:1 not found");
  EXPECT_EQ(e.kind(), ErrorCode::not_found);
  EXPECT_STREQ(e.what(), "image docker.io/library/x:1 not found");
  EXPECT_EQ(e.code(), knast::make_error_code(ErrorCode::not_found));
  EXPECT_EQ(e.sys_errno(), 0);
}

TEST(Error, OsErrorsKeepErrnoAndMapToAKind) {
  Error e(ENOENT, "open /nope");
  EXPECT_EQ(e.sys_errno(), ENOENT);
  EXPECT_EQ(e.kind(), ErrorCode::not_found);
  EXPECT_EQ(Error(EACCES, "x").kind(), ErrorCode::permission_denied);
  EXPECT_EQ(Error(ENOSPC, "x").kind(), ErrorCode::limit_exceeded);
  EXPECT_EQ(Error(EIO, "x").kind(), ErrorCode::io);
}

TEST(Error, ContextIsPrependedAndCodeKept) {
  Error inner(ErrorCode::integrity, "digest mismatch");
  Error outer = inner.with_context("pull docker.io/library/alpine:3.20");
  EXPECT_STREQ(outer.what(), "pull docker.io/library/alpine:3.20: digest mismatch");
  EXPECT_EQ(outer.kind(), ErrorCode::integrity);
  Error os = Error(EEXIST, "mkdir /x").with_context("create");
  EXPECT_EQ(os.sys_errno(), EEXIST);
}

TEST(Error, IsASystemErrorAndCodesHaveNames) {
  try {
    throw Error(ErrorCode::busy, "locked");
  } catch (const std::system_error& e) {
    EXPECT_EQ(e.code().category().name(), std::string("knast"));
    EXPECT_EQ(e.code().message(), "busy");
  }
  EXPECT_EQ(knast::to_string(ErrorCode::limit_exceeded), "limit_exceeded");
  EXPECT_EQ(knast::to_string(ErrorCode::internal), "internal");
}

}  // namespace
