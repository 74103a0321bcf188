# Shared compile settings: warnings as errors and the optional sanitizers, applied per target
# through INTERFACE libraries rather than global flags, so third-party code is untouched.
add_library(openbatch_warnings INTERFACE)
target_compile_options(openbatch_warnings INTERFACE
  -Wall -Wextra -Werror -Wshadow -Wnon-virtual-dtor -Wno-unused-parameter
  # GCC 12 reports Asio's coroutine frame allocator as mismatched new/delete (a known false
  # positive: the frame's operator new/delete are a matched pair declared by Asio).
  $<$<CXX_COMPILER_ID:GNU>:-Wno-mismatched-new-delete>)

add_library(openbatch_sanitizers INTERFACE)
if(OPENBATCH_SANITIZE)
  target_compile_options(openbatch_sanitizers INTERFACE
    -fsanitize=${OPENBATCH_SANITIZE} -fno-omit-frame-pointer -fno-sanitize-recover=all)
  target_link_options(openbatch_sanitizers INTERFACE -fsanitize=${OPENBATCH_SANITIZE})
  # With the sanitizers' instrumentation GCC 12 reports -Wmaybe-uninitialized for moves of
  # boost::system::result<void, Error> out of Asio coroutine frames (a false positive the
  # normal build does not show, where the same code is checked with the warning on).
  if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
    target_compile_options(openbatch_sanitizers INTERFACE -Wno-maybe-uninitialized)
  endif()
endif()

# openbatch_library(NAME DIR [DEPS ...]): one static library per source folder, its sources
# globbed so that adding a file needs no CMake edit.
function(openbatch_library name dir)
  cmake_parse_arguments(ARG "" "" "DEPS" ${ARGN})
  file(GLOB_RECURSE srcs CONFIGURE_DEPENDS ${dir}/*.cpp)
  list(FILTER srcs EXCLUDE REGEX ".*/main\\.cpp$")
  if(srcs)
    add_library(${name} STATIC ${srcs})
    target_include_directories(${name} PUBLIC ${PROJECT_SOURCE_DIR})
    target_link_libraries(${name} PUBLIC ${ARG_DEPS} openbatch_warnings openbatch_sanitizers)
  else()  # header-only so far
    add_library(${name} INTERFACE)
    target_include_directories(${name} INTERFACE ${PROJECT_SOURCE_DIR})
    target_link_libraries(${name} INTERFACE ${ARG_DEPS} openbatch_warnings openbatch_sanitizers)
  endif()
endfunction()
