// Choosing a manifest of an index by platform, and the error that lists what there is.
#include "image_store/platform_choice.hpp"

#include <knast/error.hpp>

#include <gtest/gtest.h>

namespace {

using knast::Error;
using knast::ErrorCode;
using knast::Platform;
using knast::detail::choose_platform;

const std::vector<Platform> alpine = {Platform::parse("linux/amd64"), Platform{"unknown", "unknown", "", "", {}},
                                      Platform::parse("linux/arm/v6"), Platform::parse("linux/arm/v7"),
                                      Platform::parse("linux/arm64")};

TEST(ImageStorePlatformChoice, PicksTheBestMatch) {
  EXPECT_EQ(choose_platform(alpine, Platform::parse("linux/amd64"), "x"), 0u);
  EXPECT_EQ(choose_platform(alpine, Platform::parse("linux/arm64"), "x"), 4u);
  EXPECT_EQ(choose_platform(alpine, Platform::parse("linux/arm/v7"), "x"), 3u);
  EXPECT_EQ(choose_platform({Platform::parse("linux/arm/v6")}, Platform::parse("linux/arm64"), "x"), 0u);
}

TEST(ImageStorePlatformChoice, NoMatchNamesWantedAndAvailableWithoutAttestations) {
  try {
    choose_platform(alpine, Platform::parse("freebsd/amd64"), "index sha256:abc");
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorCode::not_found);
    EXPECT_STREQ(e.what(),
                 "index sha256:abc has no image for platform freebsd/amd64; available: "
                 "linux/amd64, linux/arm/v6, linux/arm/v7, linux/arm64");
  }
  try {
    choose_platform({}, Platform::parse("linux/amd64"), "index x");
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "index x has no image for platform linux/amd64; available: none");
  }
}

}  // namespace
