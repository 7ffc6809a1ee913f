// Pure index.json editing: names are ref.name annotations.
#include "image_store/index_edit.hpp"

#include <knast/image_store.hpp>

#include <gtest/gtest.h>

namespace {

using knast::Descriptor;
using knast::Digest;
using knast::Index;
namespace detail = knast::detail;

Descriptor manifest(std::string_view seed, std::optional<std::string> name = std::nullopt) {
  Descriptor d;
  d.media_type = std::string(knast::media_type::oci_manifest);
  d.digest = Digest::of(seed);
  d.size = 100;
  if (name) d.annotations[std::string(knast::ref_name_annotation)] = *name;
  return d;
}

std::vector<std::string> names_in_order(const Index& index) {
  std::vector<std::string> names;
  for (const auto& e : index.manifests) names.push_back(detail::ref_name(e).value_or("<none>"));
  return names;
}

TEST(ImageStoreIndexEdit, SetAppendsANewNameAndKeepsOtherAnnotations) {
  Index index;
  index.manifests.push_back(manifest("unnamed"));
  Descriptor target = manifest("a");
  target.annotations["org.opencontainers.image.created"] = "2024";
  detail::set_named(index, "docker.io/library/a:1", target);
  EXPECT_EQ(names_in_order(index), (std::vector<std::string>{"<none>", "docker.io/library/a:1"}));
  EXPECT_EQ(index.manifests[1].annotations.at("org.opencontainers.image.created"), "2024");
  EXPECT_EQ(index.manifests[1].digest, Digest::of(std::string_view("a")));
}

TEST(ImageStoreIndexEdit, SetReplacesInPlaceAndDropsDuplicates) {
  Index index;
  index.manifests = {manifest("1", "x"), manifest("2", "y"), manifest("3", "x"), manifest("4", "z")};
  detail::set_named(index, "x", manifest("new"));
  EXPECT_EQ(names_in_order(index), (std::vector<std::string>{"x", "y", "z"}));
  EXPECT_EQ(index.manifests[0].digest, Digest::of(std::string_view("new")));
}

TEST(ImageStoreIndexEdit, FindAndRemove) {
  Index index;
  index.manifests = {manifest("1", "x"), manifest("2", "y"), manifest("3", "x"), manifest("4")};
  EXPECT_EQ(detail::find_named(index, "y")->digest, Digest::of(std::string_view("2")));
  EXPECT_EQ(detail::find_named(index, "x")->digest, Digest::of(std::string_view("1")));
  EXPECT_FALSE(detail::find_named(index, "docker.io/library/x:latest"));
  EXPECT_TRUE(detail::remove_named(index, "x"));
  EXPECT_FALSE(detail::remove_named(index, "x"));
  EXPECT_EQ(names_in_order(index), (std::vector<std::string>{"y", "<none>"}));
}

TEST(ImageStoreIndexEdit, NamedEntriesAreSortedUniqueAndSkipUnnamed) {
  Index index;
  index.manifests = {manifest("1", "b"), manifest("2"), manifest("3", "a"), manifest("4", "b")};
  const auto named = detail::named_entries(index);
  ASSERT_EQ(named.size(), 2u);
  EXPECT_EQ(named[0].first, "a");
  EXPECT_EQ(named[1].first, "b");
  EXPECT_EQ(named[1].second.digest, Digest::of(std::string_view("1")));
}

TEST(ImageStoreIndexEdit, EditedIndexRoundTripsThroughJson) {
  Index index;
  detail::set_named(index, "docker.io/library/alpine:3.20", manifest("a"));
  const Index again = Index::parse(index.to_json());
  EXPECT_EQ(again, index);
  EXPECT_EQ(detail::ref_name(again.manifests.at(0)), "docker.io/library/alpine:3.20");
}

}  // namespace
