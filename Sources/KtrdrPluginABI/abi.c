#include "ktrdr_plugin.h"
