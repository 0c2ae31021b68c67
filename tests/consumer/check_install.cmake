# Installs the sgm build tree into a scratch prefix, then builds and runs the
# consumer project against it (find_package) and from the source tree
# (add_subdirectory).
file(REMOVE_RECURSE ${SGM_WORK_DIR})
function(run)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "command failed (${rc}): ${ARGN}\n${out}\n${err}")
  endif()
  message(STATUS "${out}")
endfunction()
run(${CMAKE_COMMAND} --install ${SGM_BUILD_DIR} --prefix ${SGM_WORK_DIR}/prefix)
run(${CMAKE_COMMAND} -S ${SGM_CONSUMER_SOURCE} -B ${SGM_WORK_DIR}/installed
    -DCMAKE_PREFIX_PATH=${SGM_WORK_DIR}/prefix -DCMAKE_BUILD_TYPE=Release)
run(${CMAKE_COMMAND} --build ${SGM_WORK_DIR}/installed)
run(${SGM_WORK_DIR}/installed/consumer)
get_filename_component(source_dir ${SGM_CONSUMER_SOURCE}/../.. ABSOLUTE)
run(${CMAKE_COMMAND} -S ${SGM_CONSUMER_SOURCE} -B ${SGM_WORK_DIR}/subdirectory
    -DSGM_SOURCE_DIR=${source_dir} -DCMAKE_BUILD_TYPE=Release)
run(${CMAKE_COMMAND} --build ${SGM_WORK_DIR}/subdirectory)
run(${SGM_WORK_DIR}/subdirectory/consumer)
