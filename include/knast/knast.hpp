/// @file knast.hpp
/// @brief The whole C++ API of knast in one include.
#pragma once

#include <knast/digest.hpp>
#include <knast/document.hpp>
#include <knast/error.hpp>
#include <knast/image_store.hpp>
#include <knast/layout.hpp>
#include <knast/linuxulator.hpp>
#include <knast/network.hpp>
#include <knast/oci.hpp>
#include <knast/plan.hpp>
#include <knast/platform.hpp>
#include <knast/reference.hpp>
#include <knast/registry.hpp>
#include <knast/rootfs.hpp>
#include <knast/run_spec.hpp>
#include <knast/jail.hpp>
#include <knast/version.hpp>
