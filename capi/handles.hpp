// The C handles that more than one C ABI file reaches into.
#pragma once

#include <knast/image_store.hpp>

struct knast_image_store {
  knast::ImageStore store;
};
