# Warnings every knast target is built with. CI turns them into errors (KNAST_WERROR).
add_library(knast_warnings INTERFACE)
target_compile_options(knast_warnings INTERFACE
  -Wall -Wextra -Wpedantic -Wshadow -Wcast-align -Wconversion -Wsign-conversion
  -Wimplicit-fallthrough
  $<$<COMPILE_LANGUAGE:CXX>:-Wnon-virtual-dtor -Wold-style-cast -Woverloaded-virtual>)
if(KNAST_WERROR)
  target_compile_options(knast_warnings INTERFACE -Werror)
endif()
