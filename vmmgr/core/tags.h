/* Tags on any resource (instances, images, …): CreateTags, DeleteTags, DescribeTags, the tagSet
 * of each resource in Describe* and the tag:KEY / tag-key filters.  Keys and values are stored
 * as given: any Unicode, up to 128 and 256 characters; keys starting with "aws:" are reserved. */
#pragma once

#include "ctx.h"
#include "node.h"
#include "params.h"

#define VM_TAGS_MAX 50

typedef struct vm_tag {
    const char *key;   /* borrowed from the params */
    const char *value;
} vm_tag;

/* Reads PREFIX.N.Key / PREFIX.N.Value (e.g. "Tag" or "TagSpecification.1.Tag") and validates
 * them.  *ret is an owned array of borrowed strings. */
int vm_tags_parse(const vm_params *p, const char *prefix, vm_tag **ret, size_t *ret_n, vm_error *err);
/* The tags a create action asks for in TagSpecification.N for resource_type ("instance",
 * "volume", …): another resource type, or the same one twice, is InvalidParameterValue. */
int vm_tags_from_spec(const vm_params *p, const char *resource_type, vm_tag **ret, size_t *ret_n, vm_error *err);
/* Inserts or replaces tags on resource_id (inside the caller's transaction). */
int vm_tags_put(vm_ctx *ctx, const char *resource_id, const vm_tag *tags, size_t n, vm_error *err);
/* Removes every tag of resource_id. */
int vm_tags_drop(vm_ctx *ctx, const char *resource_id, vm_error *err);
/* Appends <tagSet> of resource_id to parent. */
int vm_tags_render(vm_ctx *ctx, vm_node *parent, const char *resource_id, vm_error *err);
/* Filter "tag:KEY" (values are patterns of the value) or "tag-key" (patterns of the key):
 * 1 when resource_id matches, 0 when not (and for any other filter name: an attribute the resource lacks). */
int vm_tags_match(vm_ctx *ctx, const char *resource_id, const char *filter, const char *const *values,
                  vm_error *err);

/* Actions CreateTags, DeleteTags, DescribeTags. */
int vm_tags_create(vm_ctx *ctx, const vm_params *p, vm_node *resp, vm_error *err);
int vm_tags_delete(vm_ctx *ctx, const vm_params *p, vm_node *resp, vm_error *err);
int vm_tags_describe(vm_ctx *ctx, const vm_params *p, vm_node *resp, vm_error *err);
