#include <knast/oci.hpp>

#include <gtest/gtest.h>

namespace {

namespace mt = knast::media_type;

TEST(OciMediaTypes, ManifestTypesAreOciAndDockerSchema2Only) {
  EXPECT_TRUE(knast::is_manifest_media_type(mt::oci_manifest));
  EXPECT_TRUE(knast::is_manifest_media_type(mt::docker_manifest));
  EXPECT_FALSE(knast::is_manifest_media_type(mt::oci_index));
  EXPECT_FALSE(knast::is_manifest_media_type(mt::docker_manifest_list));
  EXPECT_FALSE(knast::is_manifest_media_type("application/vnd.docker.distribution.manifest.v1+prettyjws"));
  EXPECT_FALSE(knast::is_manifest_media_type(""));
}

TEST(OciMediaTypes, IndexTypesAreOciIndexAndDockerList) {
  EXPECT_TRUE(knast::is_index_media_type(mt::oci_index));
  EXPECT_TRUE(knast::is_index_media_type(mt::docker_manifest_list));
  EXPECT_FALSE(knast::is_index_media_type(mt::oci_manifest));
  EXPECT_FALSE(knast::is_index_media_type(mt::docker_manifest));
}

TEST(OciMediaTypes, EveryOciAndDockerLayerTypeIsALayer) {
  for (const auto type :
       {mt::oci_layer_tar, mt::oci_layer_gzip, mt::oci_layer_zstd, mt::oci_layer_nondist_tar,
        mt::oci_layer_nondist_gzip, mt::oci_layer_nondist_zstd, mt::docker_layer_gzip, mt::docker_layer_foreign_gzip})
    EXPECT_TRUE(knast::is_layer_media_type(type)) << type;
}

TEST(OciMediaTypes, NonLayersAndVariantSpellingsAreNotLayers) {
  EXPECT_FALSE(knast::is_layer_media_type(mt::oci_config));
  EXPECT_FALSE(knast::is_layer_media_type(mt::oci_empty));
  EXPECT_FALSE(knast::is_layer_media_type("application/vnd.in-toto+json"));
  // Matching is exact: no parameters, no case folding.
  EXPECT_FALSE(knast::is_layer_media_type("application/vnd.oci.image.layer.v1.tar+gzip; charset=x"));
  EXPECT_FALSE(knast::is_layer_media_type("APPLICATION/VND.OCI.IMAGE.LAYER.V1.TAR"));
}

TEST(OciMediaTypes, ConfigTypesAreOciAndDockerConfigs) {
  EXPECT_TRUE(knast::is_config_media_type(mt::oci_config));
  EXPECT_TRUE(knast::is_config_media_type(mt::docker_config));
  EXPECT_FALSE(knast::is_config_media_type(mt::oci_empty));
  EXPECT_FALSE(knast::is_config_media_type(mt::oci_manifest));
}

}  // namespace
