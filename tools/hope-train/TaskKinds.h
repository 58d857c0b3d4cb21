//===- TaskKinds.h - the constructors behind createTask ---------*- C++ -*-===//
//
// One per task; each checks its own options. Private to the tasks' files.
//
//===----------------------------------------------------------------------===//

#ifndef HOPE_TOOLS_HOPETRAIN_TASKKINDS_H
#define HOPE_TOOLS_HOPETRAIN_TASKKINDS_H

#include "Tasks.h"

namespace hope::train {

llvm::Expected<std::unique_ptr<Task>> createMqarTask(const TaskOptions &options);
llvm::Expected<std::unique_ptr<Task>>
createNeedleTask(const TaskOptions &options);
llvm::Expected<std::unique_ptr<Task>> createCopyTask(const TaskOptions &options);
llvm::Expected<std::unique_ptr<Task>> createTextTask(const TaskOptions &options,
                                                     llvm::StringRef path);

} // namespace hope::train

#endif // HOPE_TOOLS_HOPETRAIN_TASKKINDS_H
