// Checks of knast's own annotations (knast::annotation), shared by RunSpec::parse() and
// make_run_spec(), so a bundle cannot carry a value the FreeBSD executor would misread.
#pragma once

#include <map>
#include <string>

namespace knast {
inline namespace v0 {
namespace detail {

/// Checks the value of every `org.knast.` annotation knast defines; other annotations
/// (and unknown `org.knast.` ones) pass untouched.
/// @throws Error invalid_argument naming the annotation and what is wrong with it.
void check_knast_annotations(const std::map<std::string, std::string>& annotations);

}  // namespace detail
}  // namespace v0
}  // namespace knast
