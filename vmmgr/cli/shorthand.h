/* The aws CLI's shorthand syntax for structured options, turned into Query parameters:
 *
 *   Name=instance-state-name,Values=running,stopped      → PREFIX.Name, PREFIX.Value.1, PREFIX.Value.2
 *   ResourceType=instance,Tags=[{Key=a,Value=b},{Key=c}] → PREFIX.ResourceType, PREFIX.Tag.1.Key, …
 *
 * A value may be double-quoted ("a,b", with backslash escapes) or single-quoted ('a,b') to hold
 * the characters , = [ ] { }.  Member names in plural (Values, Tags) are lists on the wire under
 * their singular name, as botocore serialises them. */
#pragma once

#include "../core/params.h"

int cli_shorthand_parse(const char *text, const char *prefix, vm_params *out, vm_error *err);
