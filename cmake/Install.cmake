# What `cmake --install` puts where, and the Debian package (CPack) built
# from it: `cmake --build BUILD --target package` or `tools/setup package`.

find_program(GZIP_PROGRAM gzip REQUIRED)
# Debian compresses man pages and changelogs; -n keeps the archive reproducible.
foreach(pair "man/greenrun.1:greenrun.1.gz" "packaging/changelog:changelog.Debian.gz")
  string(REPLACE ":" ";" pair "${pair}")
  list(GET pair 0 from)
  list(GET pair 1 to)
  add_custom_command(OUTPUT ${PROJECT_BINARY_DIR}/${to}
                     COMMAND ${GZIP_PROGRAM} -9nc ${PROJECT_SOURCE_DIR}/${from} > ${PROJECT_BINARY_DIR}/${to}
                     DEPENDS ${PROJECT_SOURCE_DIR}/${from} VERBATIM)
  list(APPEND compressed ${PROJECT_BINARY_DIR}/${to})
endforeach()
add_custom_target(compressed_docs ALL DEPENDS ${compressed})

install(TARGETS greenrun RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(FILES ${PROJECT_BINARY_DIR}/greenrun.1.gz DESTINATION ${CMAKE_INSTALL_MANDIR}/man1)
install(DIRECTORY share/ DESTINATION ${CMAKE_INSTALL_DATADIR}/greenrun)
install(FILES completions/greenrun.bash DESTINATION ${CMAKE_INSTALL_DATADIR}/bash-completion/completions RENAME greenrun)
install(FILES completions/_greenrun DESTINATION ${CMAKE_INSTALL_DATADIR}/zsh/vendor-completions)
install(FILES completions/greenrun.fish DESTINATION ${CMAKE_INSTALL_DATADIR}/fish/vendor_completions.d)
install(FILES packaging/copyright ${PROJECT_BINARY_DIR}/changelog.Debian.gz DESTINATION ${CMAKE_INSTALL_DOCDIR})
# The Python helper (import greenrun) where Debian's python3 finds it:
# /usr/lib/python3/dist-packages for the package (prefix /usr); for another
# prefix PREFIX/lib/python3.X/dist-packages, X from Debian's /usr/bin/python3
# (on its sys.path for /usr/local), else PREFIX/lib/python3/dist-packages;
# -DGREENRUN_INSTALL_PYTHONDIR=DIR for another interpreter's site directory.
# Plain "lib", not the multiarch CMAKE_INSTALL_LIBDIR: the module is the same on every architecture.
set(python_dir lib/python3/dist-packages)
if(NOT CMAKE_INSTALL_PREFIX STREQUAL "/usr" AND EXISTS /usr/bin/python3)
  execute_process(COMMAND /usr/bin/python3 -c "import sys; print('python%d.%d' % sys.version_info[:2])"
                  OUTPUT_VARIABLE python_version OUTPUT_STRIP_TRAILING_WHITESPACE RESULT_VARIABLE python_rc)
  if(python_rc EQUAL 0)
    set(python_dir lib/${python_version}/dist-packages)
  endif()
endif()
if(DEFINED GREENRUN_INSTALL_PYTHONDIR)
  set(python_dir ${GREENRUN_INSTALL_PYTHONDIR})
endif()
install(FILES python/greenrun.py DESTINATION ${python_dir})

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME greenrun)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_CONTACT "greenrun maintainers <maintainers@greenrun.example.org>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "energy and carbon footprint of a command")
set(CPACK_DEBIAN_PACKAGE_RELEASE 1)
string(CONCAT CPACK_DEBIAN_PACKAGE_DESCRIPTION
    "greenrun runs a command as its child and measures the energy it used from\n"
    "the hardware's counters (RAPL, NVIDIA NVML, AMD ROCm SMI, hwmon) where the\n"
    "machine allows, or a labelled estimate where it does not, and reports the\n"
    "emissions (CO2e) for the grid it ran on and for other regions. The command\n"
    "keeps its stdin, stdout, stderr, signals and exit status.")
set(CPACK_DEBIAN_PACKAGE_SECTION utils)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_HOMEPAGE "https://greenrun.example.org")
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)  # Depends computed by dpkg-shlibdeps
# libcurl is opened at run time, for the grid providers only (util/http.cc).
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "libcurl4 | libcurl3-gnutls")
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
# prerm removes the byte code python3 writes beside the helper when root imports it.
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA ${PROJECT_SOURCE_DIR}/packaging/prerm)
set(CPACK_DEBIAN_PACKAGE_SUGGESTS python3)  # import greenrun (python/greenrun.py)
set(CPACK_STRIP_FILES ON)
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
include(CPack)
