# `cmake --install` puts in place: the headers, libknast.so, knast.pc and a CMake package
# (find_package(knast) → knast::knast). tests/install/run.sh checks both with a consumer.
include(CMakePackageConfigHelpers)

install(TARGETS knast EXPORT knastTargets
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT runtime NAMELINK_COMPONENT development
  INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(TARGETS knast_shim RUNTIME DESTINATION ${CMAKE_INSTALL_LIBEXECDIR}/knast COMPONENT runtime)
install(DIRECTORY ${PROJECT_SOURCE_DIR}/include/knast DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}
  COMPONENT development FILES_MATCHING PATTERN "*.h" PATTERN "*.hpp")
install(FILES ${PROJECT_BINARY_DIR}/include/knast/version.hpp
  DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/knast COMPONENT development)

set(knast_cmake_dir ${CMAKE_INSTALL_LIBDIR}/cmake/knast)
install(EXPORT knastTargets NAMESPACE knast:: DESTINATION ${knast_cmake_dir} COMPONENT development)
configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/knastConfig.cmake.in
  ${PROJECT_BINARY_DIR}/knastConfig.cmake INSTALL_DESTINATION ${knast_cmake_dir})
write_basic_package_version_file(${PROJECT_BINARY_DIR}/knastConfigVersion.cmake COMPATIBILITY SameMajorVersion)
install(FILES ${PROJECT_BINARY_DIR}/knastConfig.cmake ${PROJECT_BINARY_DIR}/knastConfigVersion.cmake
  DESTINATION ${knast_cmake_dir} COMPONENT development)

configure_file(${PROJECT_SOURCE_DIR}/cmake/knast.pc.in ${PROJECT_BINARY_DIR}/knast.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/knast.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig COMPONENT development)
