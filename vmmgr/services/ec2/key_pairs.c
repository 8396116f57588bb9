/* Key pairs on the wire: Create/Import/Describe/DeleteKeyPair parsed into compute's typed calls
 * (vmmgr/compute/keypair.h), which answer as EC2 does. */
#include <stdlib.h>

#include "../../core/cleanup.h"
#include "../../core/filter.h"
#include "../../core/tags.h"
#include "../../compute/keypair.h"
#include "ec2.h"

int
ec2_create_key_pair(vm_ctx *ctx, const vm_params *p, vm_node *resp, vm_error *err)
{
    vm_tag *tags = NULL;
    size_t ntags = 0;
    if (vm_tags_from_spec(p, "key-pair", &tags, &ntags, err) < 0)
        return -1;
    _cleanup_free_ vm_tag *owned = tags;
    return kp_create(ctx, vm_params_get(p, "KeyName"), vm_params_get(p, "KeyType"), vm_params_get(p, "KeyFormat"),
                     owned, ntags, resp, err);
}

int
ec2_import_key_pair(vm_ctx *ctx, const vm_params *p, vm_node *resp, vm_error *err)
{
    vm_tag *tags = NULL;
    size_t ntags = 0;
    if (vm_tags_from_spec(p, "key-pair", &tags, &ntags, err) < 0)
        return -1;
    _cleanup_free_ vm_tag *owned = tags;
    return kp_import(ctx, vm_params_get(p, "KeyName"), vm_params_get(p, "PublicKeyMaterial"), owned, ntags, resp,
                     err);
}

int
ec2_describe_key_pairs(vm_ctx *ctx, const vm_params *p, vm_node *resp, vm_error *err)
{
    _cleanup_free_ const char **names = NULL, **ids = NULL;
    _cleanup_(vm_filters_freep) vm_filters *fs = NULL;
    size_t nn, ni;
    bool with_pub;
    if (vm_params_list(p, "KeyName", &names, &nn, err) < 0 || vm_params_list(p, "KeyPairId", &ids, &ni, err) < 0 ||
        vm_filters_parse(p, "DescribeKeyPairs", &fs, err) < 0 ||
        vm_params_bool(p, "IncludePublicKey", false, &with_pub, err) < 0)
        return -1;
    return kp_describe(ctx, names, nn, ids, ni, fs, with_pub, resp, err);
}

int
ec2_delete_key_pair(vm_ctx *ctx, const vm_params *p, vm_node *resp, vm_error *err)
{
    return kp_delete(ctx, vm_params_get(p, "KeyName"), vm_params_get(p, "KeyPairId"), resp, err);
}
