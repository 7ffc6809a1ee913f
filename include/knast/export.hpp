/// @file export.hpp
/// @brief Symbol visibility and ABI namespace macros shared by every public header.
#pragma once

/// Marks a class or function as part of libknast's exported interface. The library is
/// built with hidden visibility, so anything without this stays internal.
#if defined(KNAST_STATIC_DEFINE)
#define KNAST_API
#else
#define KNAST_API __attribute__((visibility("default")))
#endif
