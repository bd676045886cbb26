# What `cmake --install` lays out beyond the program, its library and its
# recipes (the helper links, man pages, shell completion, systemd templates,
# editor annotations), and the Debian package CPack builds from it:
#   cmake -S . -B build && cmake --build build && (cd build && cpack -G DEB)
# Included from CMakeLists.txt after the tokrun target is defined.

set(TOKRUN_MAINTAINER "tokrun maintainers <maintainers@users.noreply.b-seed-820442a4.example>"
  CACHE STRING "The Maintainer field of the Debian package")
set(TOKRUN_HOMEPAGE "" CACHE STRING "The Homepage field of the Debian package (none when empty)")

set(PKG ${CMAKE_SOURCE_DIR}/packaging)
set(GEN ${CMAKE_BINARY_DIR}/packaging)
file(MAKE_DIRECTORY ${GEN}/man ${GEN}/bin)

# The helper protocols are the same program under another name (tokrun
# reads its argv[0]).
foreach(link docker-credential-tokrun terraform-credentials-tokrun)
  file(CREATE_LINK tokrun ${GEN}/bin/${link} SYMBOLIC)
  install(FILES ${GEN}/bin/${link} DESTINATION ${CMAKE_INSTALL_BINDIR})
endforeach()

# Man pages: tokrun(1) is written by hand; tokrun-recipe(5) and the LuaLS
# annotations are generated from the schema table by the built tokrun, so
# they cannot drift from what `tokrun check` accepts.
set(SCHEMA ${CMAKE_SOURCE_DIR}/lualib/tokrun/schema.lua)
add_custom_command(OUTPUT ${GEN}/man/tokrun-recipe.5
  COMMAND tokrun lua ${PKG}/gen/manpage.lua ${GEN}/man/tokrun-recipe.5
  DEPENDS tokrun ${PKG}/gen/manpage.lua ${PKG}/gen/words.lua ${SCHEMA} VERBATIM)
add_custom_command(OUTPUT ${GEN}/lua-annotations/tokrun/recipe.lua
  COMMAND tokrun lua ${PKG}/gen/annotations.lua ${GEN}/lua-annotations/tokrun/recipe.lua
  DEPENDS tokrun ${PKG}/gen/annotations.lua ${PKG}/gen/words.lua ${SCHEMA} VERBATIM)
install(FILES ${GEN}/man/tokrun-recipe.5.gz DESTINATION ${CMAKE_INSTALL_MANDIR}/man5)
install(DIRECTORY ${GEN}/lua-annotations/ DESTINATION ${CMAKE_INSTALL_DATADIR}/tokrun/lua-annotations)
set(PAGES man/tokrun.1=${PKG}/man/tokrun.1 man/tokrun-recipe.5=${GEN}/man/tokrun-recipe.5)
set(GENERATED ${GEN}/lua-annotations/tokrun/recipe.lua)
set(MAN_GZ "")
foreach(page ${PAGES})
  string(REGEX REPLACE "=.*$" "" name ${page})
  string(REGEX REPLACE "^[^=]*=" "" src ${page})
  add_custom_command(OUTPUT ${GEN}/${name}.gz
    COMMAND gzip -9nc ${src} > ${GEN}/${name}.gz
    DEPENDS ${src} VERBATIM)
  list(APPEND MAN_GZ ${GEN}/${name}.gz)
endforeach()
configure_file(${PKG}/changelog ${GEN}/changelog @ONLY)
add_custom_command(OUTPUT ${GEN}/changelog.gz
  COMMAND gzip -9nc ${GEN}/changelog > ${GEN}/changelog.gz
  DEPENDS ${PKG}/changelog VERBATIM)
add_custom_target(tokrun_packaging ALL
  DEPENDS ${MAN_GZ} ${GEN}/changelog.gz ${GENERATED})

install(FILES ${GEN}/man/tokrun.1.gz DESTINATION ${CMAKE_INSTALL_MANDIR}/man1)
foreach(link docker-credential-tokrun terraform-credentials-tokrun)
  file(CREATE_LINK tokrun.1.gz ${GEN}/man/${link}.1.gz SYMBOLIC)
  install(FILES ${GEN}/man/${link}.1.gz DESTINATION ${CMAKE_INSTALL_MANDIR}/man1)
endforeach()

install(FILES ${PKG}/completion/tokrun.bash DESTINATION ${CMAKE_INSTALL_DATADIR}/bash-completion/completions
  RENAME tokrun)
install(FILES ${PKG}/completion/_tokrun DESTINATION ${CMAKE_INSTALL_DATADIR}/zsh/vendor-completions)

# `tokrun new`'s templates (not Lua modules: not embedded, not on the path).
install(DIRECTORY lualib/tokrun/scaffold/ DESTINATION ${TOKRUN_LUADIR}/tokrun/scaffold)

# The units name the program by its installed path, known only at install
# time (CPack installs under /usr whatever the build's prefix); each prefix
# gets its own copy, so installs to two prefixes cannot mix.
install(CODE "
  set(bindir \"\${CMAKE_INSTALL_PREFIX}/${CMAKE_INSTALL_BINDIR}\")
  string(MD5 tag \"\${bindir}\")
  foreach(unit tokrun@.service tokrun@.timer)
    file(READ \"${PKG}/systemd/\${unit}\" text)
    string(REPLACE \"@BINDIR@\" \"\${bindir}\" text \"\${text}\")
    file(WRITE \"${GEN}/systemd/\${tag}/\${unit}\" \"\${text}\")
  endforeach()
  file(INSTALL DESTINATION \"\${CMAKE_INSTALL_PREFIX}/lib/systemd/system\" TYPE FILE
    FILES \"${GEN}/systemd/\${tag}/tokrun@.service\" \"${GEN}/systemd/\${tag}/tokrun@.timer\")")

install(FILES ${PKG}/copyright ${GEN}/changelog.gz DESTINATION ${CMAKE_INSTALL_DOCDIR})
install(FILES README.md docs/cli.md docs/recipes.md docs/mock.md DESTINATION ${CMAKE_INSTALL_DOCDIR})
install(FILES ${PKG}/lintian-overrides DESTINATION ${CMAKE_INSTALL_DATADIR}/lintian/overrides
  RENAME tokrun)

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME tokrun)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_CONTACT ${TOKRUN_MAINTAINER})
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_MAINTAINER ${TOKRUN_MAINTAINER})
set(CPACK_DEBIAN_PACKAGE_SECTION utils)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
if(TOKRUN_HOMEPAGE)
  set(CPACK_DEBIAN_PACKAGE_HOMEPAGE ${TOKRUN_HOMEPAGE})
endif()
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_GENERATE_SHLIBS OFF)
set(CPACK_DEBIAN_PACKAGE_SUGGESTS "lua-busted, lua-socket, lua-sec, openssl")
set(CPACK_DEBIAN_PACKAGE_DESCRIPTION "mints, checks out and rotates API credentials
tokrun runs a recipe - a short Lua file describing a provider's credential
flow as data: parameters, requests, signing, what to capture, what to emit,
what to release - and prints one JSON document, a bare token, shell export
lines or a Kubernetes ExecCredential. It caches credentials while they are
fresh, checks leased passwords back in, redacts secrets from every trace
and error, and exits with sysexits codes that cron and systemd can act on.
.
The package carries the shipped recipes, man pages, bash and zsh
completion, systemd templates (tokrun@.service, tokrun@.timer), editor
annotations and the mock kit recipe authors test with (tokrun.mock; its
specs need lua-busted, lua-socket and lua-sec).")
set(CPACK_STRIP_FILES ON)
include(CPack)
