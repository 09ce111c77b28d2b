# Installs Shoal as a library an embedder finds with find_package(shoal) or pkg-config:
#   include/shoal/*.hpp          the public API, and nothing of src/
#   lib/libshoal_{core,runtime}.a
#   lib/cmake/shoal/             shoalConfig.cmake, its version file and the exported targets
#   lib/pkgconfig/shoal.pc
# The exported shoal::shoal links both static libraries and their link dependencies (OpenSSL, zlib, threads).
# Warnings, -Werror and the sanitizers' compile flags stay on Shoal's own build; only when the libraries were
# compiled with sanitizers (SHOAL_SANITIZE, the debug preset) do their runtime libraries become a link
# requirement of the installed targets, because the objects call into them.
include(CMakePackageConfigHelpers)

add_library(shoal_library INTERFACE)
add_library(shoal::shoal ALIAS shoal_library)
target_link_libraries(shoal_library INTERFACE shoal_runtime shoal_core)
set_target_properties(shoal_library PROPERTIES EXPORT_NAME shoal)

set(_shoal_pc_sanitize "")
if(SHOAL_SANITIZE)
  list(JOIN SHOAL_SANITIZE "," _shoal_san)
  target_link_options(shoal_library INTERFACE $<INSTALL_INTERFACE:-fsanitize=${_shoal_san}>)
  set(_shoal_pc_sanitize " -fsanitize=${_shoal_san}")
endif()

set(SHOAL_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/shoal)
install(TARGETS shoal_core shoal_runtime shoal_library EXPORT shoalTargets
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR})
install(DIRECTORY ${PROJECT_SOURCE_DIR}/include/shoal DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}
  FILES_MATCHING PATTERN "*.hpp")
install(EXPORT shoalTargets NAMESPACE shoal:: DESTINATION ${SHOAL_CMAKE_DIR})

configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/shoalConfig.cmake.in
  ${PROJECT_BINARY_DIR}/shoalConfig.cmake INSTALL_DESTINATION ${SHOAL_CMAKE_DIR})
# 0.x: no compatibility promise between minor versions yet.
write_basic_package_version_file(${PROJECT_BINARY_DIR}/shoalConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/shoalConfig.cmake ${PROJECT_BINARY_DIR}/shoalConfigVersion.cmake
  DESTINATION ${SHOAL_CMAKE_DIR})

# shoal.pc finds its prefix relative to itself, so the tree stays usable wherever `cmake --install --prefix`
# puts it.
file(RELATIVE_PATH _shoal_pc_to_prefix "/prefix/${CMAKE_INSTALL_LIBDIR}/pkgconfig" "/prefix")
string(REGEX REPLACE "/$" "" _shoal_pc_to_prefix "${_shoal_pc_to_prefix}")
set(SHOAL_PC_PREFIX "\${pcfiledir}/${_shoal_pc_to_prefix}")
set(SHOAL_PC_LIBS_EXTRA "${_shoal_pc_sanitize}")
configure_file(${PROJECT_SOURCE_DIR}/cmake/shoal.pc.in ${PROJECT_BINARY_DIR}/shoal.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/shoal.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)

if(SHOAL_BUILD_APPS)
  install(TARGETS shoal RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
  # The web UI that `shoal daemon` serves: static files, no build step.
  install(DIRECTORY ${PROJECT_SOURCE_DIR}/web/ DESTINATION ${CMAKE_INSTALL_DATADIR}/shoal/web PATTERN README.md EXCLUDE)
endif()
