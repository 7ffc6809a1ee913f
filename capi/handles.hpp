// The C handles that more than one C ABI file reaches into.
#pragma once

#include <knast/image_store.hpp>
#include <knast/knast.h>
#include <knast/registry.hpp>

struct knast_image_store {
  knast::ImageStore store;
};

struct knast_registry {
  knast::Registry registry;
};

namespace knast::capi {

/// The C++ pull options a C caller asked for (@p opts NULL for the defaults).
PullOptions pull_options_from(const knast_pull_options* opts);

}  // namespace knast::capi
