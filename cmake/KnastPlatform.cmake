# The one place that decides which OS the executors are built for (lib/platform/<os>/).
if(CMAKE_SYSTEM_NAME STREQUAL "Linux")
  set(KNAST_OS linux)
elseif(CMAKE_SYSTEM_NAME STREQUAL "FreeBSD")
  set(KNAST_OS freebsd)
else()
  set(KNAST_OS unsupported)
endif()
message(STATUS "knast: platform executors for ${KNAST_OS}")
