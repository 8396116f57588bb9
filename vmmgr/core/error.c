#include "error.h"

#include <errno.h>
#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>
#include <stdio.h>
#include <string.h>

static const struct {
    const char *name;
    int http;
} codes[VM_ERR__LAST] = {
    [VM_ERR_NONE] = { "", 200 },
    [VM_ERR_INTERNAL] = { "InternalError", 500 },
    [VM_ERR_UNAVAILABLE] = { "ServiceUnavailable", 503 },
    [VM_ERR_INVALID_ACTION] = { "InvalidAction", 400 },
    [VM_ERR_UNSUPPORTED_OPERATION] = { "UnsupportedOperation", 400 },
    [VM_ERR_MISSING_PARAMETER] = { "MissingParameter", 400 },
    [VM_ERR_INVALID_PARAMETER_VALUE] = { "InvalidParameterValue", 400 },
    [VM_ERR_INVALID_PARAMETER_COMBINATION] = { "InvalidParameterCombination", 400 },
    [VM_ERR_UNKNOWN_PARAMETER] = { "UnknownParameter", 400 },
    [VM_ERR_DRY_RUN] = { "DryRunOperation", 412 },
    [VM_ERR_INSTANCE_NOT_FOUND] = { "InvalidInstanceID.NotFound", 400 },
    [VM_ERR_INSTANCE_MALFORMED] = { "InvalidInstanceID.Malformed", 400 },
    [VM_ERR_AMI_NOT_FOUND] = { "InvalidAMIID.NotFound", 400 },
    [VM_ERR_AMI_MALFORMED] = { "InvalidAMIID.Malformed", 400 },
    [VM_ERR_INCORRECT_INSTANCE_STATE] = { "IncorrectInstanceState", 400 },
    [VM_ERR_IDEMPOTENT_MISMATCH] = { "IdempotentParameterMismatch", 400 },
    [VM_ERR_INVALID_ID] = { "InvalidID", 400 },
    [VM_ERR_TAG_LIMIT] = { "TagLimitExceeded", 400 },
    [VM_ERR_INSUFFICIENT_CAPACITY] = { "InsufficientInstanceCapacity", 500 },
    [VM_ERR_OPERATION_NOT_PERMITTED] = { "OperationNotPermitted", 400 },
    [VM_ERR_VPC_NOT_FOUND] = { "InvalidVpcID.NotFound", 400 },
    [VM_ERR_AUTH_FAILURE] = { "AuthFailure", 401 },
    [VM_ERR_SIGNATURE_MISMATCH] = { "SignatureDoesNotMatch", 403 },
    [VM_ERR_INCOMPLETE_SIGNATURE] = { "IncompleteSignature", 400 },
    [VM_ERR_REQUEST_EXPIRED] = { "RequestExpired", 400 },
    [VM_ERR_MALFORMED_QUERY] = { "MalformedQueryString", 400 },
    [VM_ERR_TOO_LARGE] = { "RequestEntityTooLarge", 413 },
    [VM_ERR_KEYPAIR_DUPLICATE] = { "InvalidKeyPair.Duplicate", 400 },
    [VM_ERR_KEYPAIR_NOT_FOUND] = { "InvalidKeyPair.NotFound", 400 },
    [VM_ERR_KEY_FORMAT] = { "InvalidKey.Format", 400 },
    [VM_ERR_AMI_NAME_DUPLICATE] = { "InvalidAMIName.Duplicate", 400 },
    [VM_ERR_AMI_NAME_MALFORMED] = { "InvalidAMIName.Malformed", 400 },
    [VM_ERR_INVALID_BLOCK_DEVICE_MAPPING] = { "InvalidBlockDeviceMapping", 400 },
    [VM_ERR_VOLUME_NOT_FOUND] = { "InvalidVolume.NotFound", 400 },
    [VM_ERR_VOLUME_MALFORMED] = { "InvalidVolumeID.Malformed", 400 },
    [VM_ERR_VOLUME_IN_USE] = { "VolumeInUse", 400 },
    [VM_ERR_INCORRECT_STATE] = { "IncorrectState", 400 },
    [VM_ERR_ATTACHMENT_NOT_FOUND] = { "InvalidAttachment.NotFound", 400 },
    [VM_ERR_SNAPSHOT_NOT_FOUND] = { "InvalidSnapshot.NotFound", 400 },
    [VM_ERR_SNAPSHOT_MALFORMED] = { "InvalidSnapshotID.Malformed", 400 },
    [VM_ERR_SNAPSHOT_IN_USE] = { "InvalidSnapshot.InUse", 400 },
    [VM_ERR_VPC_MALFORMED] = { "InvalidVpcID.Malformed", 400 },
    [VM_ERR_VPC_RANGE] = { "InvalidVpc.Range", 400 },
    [VM_ERR_SUBNET_NOT_FOUND] = { "InvalidSubnetID.NotFound", 400 },
    [VM_ERR_SUBNET_MALFORMED] = { "InvalidSubnetID.Malformed", 400 },
    [VM_ERR_SUBNET_RANGE] = { "InvalidSubnet.Range", 400 },
    [VM_ERR_SUBNET_CONFLICT] = { "InvalidSubnet.Conflict", 400 },
    [VM_ERR_DEPENDENCY_VIOLATION] = { "DependencyViolation", 400 },
    [VM_ERR_INSUFFICIENT_ADDRESSES] = { "InsufficientFreeAddressesInSubnet", 400 },
    [VM_ERR_ADDRESS_IN_USE] = { "InvalidIPAddress.InUse", 400 },
    [VM_ERR_GROUP_NOT_FOUND] = { "InvalidGroup.NotFound", 400 },
    [VM_ERR_GROUP_MALFORMED] = { "InvalidGroupId.Malformed", 400 },
    [VM_ERR_GROUP_DUPLICATE] = { "InvalidGroup.Duplicate", 400 },
    [VM_ERR_GROUP_RESERVED] = { "InvalidGroup.Reserved", 400 },
    [VM_ERR_PERMISSION_DUPLICATE] = { "InvalidPermission.Duplicate", 400 },
    [VM_ERR_PERMISSION_NOT_FOUND] = { "InvalidPermission.NotFound", 400 },
    [VM_ERR_PERMISSION_MALFORMED] = { "InvalidPermission.Malformed", 400 },
    [VM_ERR_CANNOT_DELETE] = { "CannotDelete", 400 },
    [VM_ERR_ENI_NOT_FOUND] = { "InvalidNetworkInterfaceID.NotFound", 400 },
    [VM_ERR_RESOURCE_NOT_FOUND] = { "ResourceNotFound", 404 },
    [VM_ERR_RESOURCE_NOT_FOUND_EXC] = { "ResourceNotFoundException", 404 },
    [VM_ERR_LT_NAME_DUPLICATE] = { "InvalidLaunchTemplateName.AlreadyExistsException", 400 },
    [VM_ERR_LT_NAME_NOT_FOUND] = { "InvalidLaunchTemplateName.NotFoundException", 400 },
    [VM_ERR_LT_ID_NOT_FOUND] = { "InvalidLaunchTemplateId.NotFound", 400 },
    [VM_ERR_LT_ID_MALFORMED] = { "InvalidLaunchTemplateId.Malformed", 400 },
    [VM_ERR_LT_VERSION_NOT_FOUND] = { "InvalidLaunchTemplateId.VersionNotFound", 400 },
    [VM_ERR_VALIDATION] = { "ValidationError", 400 },
    [VM_ERR_ALREADY_EXISTS] = { "AlreadyExists", 400 },
    [VM_ERR_RESOURCE_IN_USE] = { "ResourceInUse", 400 },
    [VM_ERR_SCALING_IN_PROGRESS] = { "ScalingActivityInProgress", 400 },
    [VM_ERR_LIMIT_EXCEEDED] = { "LimitExceeded", 400 },
    [VM_ERR_REFRESH_IN_PROGRESS] = { "InstanceRefreshInProgress", 400 },
    [VM_ERR_NO_ACTIVE_REFRESH] = { "ActiveInstanceRefreshNotFound", 400 },
    [VM_ERR_VOLUME_ZONE_MISMATCH] = { "InvalidVolume.ZoneMismatch", 400 },
    [VM_ERR_LB_NOT_FOUND] = { "LoadBalancerNotFound", 400 },
    [VM_ERR_TG_NOT_FOUND] = { "TargetGroupNotFound", 400 },
    [VM_ERR_LISTENER_NOT_FOUND] = { "ListenerNotFound", 400 },
    [VM_ERR_RULE_NOT_FOUND] = { "RuleNotFound", 400 },
    [VM_ERR_LB_DUPLICATE] = { "DuplicateLoadBalancerName", 400 },
    [VM_ERR_TG_DUPLICATE] = { "DuplicateTargetGroupName", 400 },
    [VM_ERR_LISTENER_DUPLICATE] = { "DuplicateListener", 400 },
    [VM_ERR_PRIORITY_IN_USE] = { "PriorityInUse", 400 },
    [VM_ERR_INVALID_TARGET] = { "InvalidTarget", 400 },
    [VM_ERR_ELB_SUBNET] = { "InvalidSubnet", 400 },
    [VM_ERR_ELB_SECURITY_GROUP] = { "InvalidSecurityGroup", 400 },
    [VM_ERR_ELB_CONFIGURATION] = { "InvalidConfigurationRequest", 400 },
    [VM_ERR_ELB_SUBNET_NOT_FOUND] = { "SubnetNotFound", 400 },
    [VM_ERR_IGW_NOT_FOUND] = { "InvalidInternetGatewayID.NotFound", 400 },
    [VM_ERR_IGW_MALFORMED] = { "InvalidInternetGatewayId.Malformed", 400 },
    [VM_ERR_RTB_NOT_FOUND] = { "InvalidRouteTableID.NotFound", 400 },
    [VM_ERR_RTB_MALFORMED] = { "InvalidRouteTableId.Malformed", 400 },
    [VM_ERR_ROUTE_NOT_FOUND] = { "InvalidRoute.NotFound", 400 },
    [VM_ERR_ROUTE_EXISTS] = { "RouteAlreadyExists", 400 },
    [VM_ERR_ASSOC_NOT_FOUND] = { "InvalidAssociationID.NotFound", 400 },
    [VM_ERR_ALREADY_ASSOCIATED] = { "Resource.AlreadyAssociated", 400 },
    [VM_ERR_GATEWAY_NOT_ATTACHED] = { "Gateway.NotAttached", 400 },
    [VM_ERR_GATEWAY_NOT_FOUND] = { "InvalidGatewayID.NotFound", 400 },
    [VM_ERR_ALLOCATION_NOT_FOUND] = { "InvalidAllocationID.NotFound", 400 },
    [VM_ERR_ADDRESS_NOT_FOUND] = { "InvalidAddress.NotFound", 400 },
    [VM_ERR_ADDRESS_LIMIT] = { "AddressLimitExceeded", 400 },
    [VM_ERR_NATGW_NOT_FOUND] = { "NatGatewayNotFound", 400 },
    [VM_ERR_VALIDATION_EXC] = { "ValidationException", 400 },
    [VM_ERR_INVALID_ARN] = { "InvalidArnException", 400 },
    [VM_ERR_ACM_IN_USE] = { "ResourceInUseException", 400 },
    [VM_ERR_CERT_NOT_FOUND] = { "CertificateNotFound", 400 },
    [VM_ERR_SSL_POLICY_NOT_FOUND] = { "SSLPolicyNotFound", 400 },
    [VM_ERR_TOO_MANY_CERTIFICATES] = { "TooManyCertificates", 400 },
};

static int
error_vset(vm_error *err, int errnum, vm_err_code code, const char *fmt, va_list ap)
{
    if (!err || err->code != VM_ERR_NONE)
        return -1;
    err->code = code;
    err->sys_errno = errnum;
    vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
    if (errnum) {
        size_t n = strlen(err->msg);
        snprintf(err->msg + n, sizeof(err->msg) - n, ": %s", strerror(errnum));
    }
    return -1;
}

int
vm_error_set(vm_error *err, vm_err_code code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    error_vset(err, 0, code, fmt, ap);
    va_end(ap);
    return -1;
}

int
vm_error_set_errno(vm_error *err, int errnum, vm_err_code code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    error_vset(err, errnum, code, fmt, ap);
    va_end(ap);
    return -1;
}

int
vm_error_from_virt(vm_error *err, const char *fmt, ...)
{
    char ctx[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(ctx, sizeof(ctx), fmt, ap);
    va_end(ap);

    virErrorPtr ve = virGetLastError();
    vm_err_code code = VM_ERR_INTERNAL;
    if (ve && (ve->code == VIR_ERR_SYSTEM_ERROR || ve->code == VIR_ERR_NO_CONNECT ||
               ve->code == VIR_ERR_INVALID_CONN || ve->code == VIR_ERR_RPC))
        code = VM_ERR_UNAVAILABLE;
    return vm_error_set(err, code, "%s: %s", ctx, ve && ve->message ? ve->message : "unknown libvirt error");
}

int
vm_error_dry_run(vm_error *err)
{
    return vm_error_set(err, VM_ERR_DRY_RUN, "Request would have succeeded, but DryRun flag is set");
}

bool
vm_error_is_set(const vm_error *err)
{
    return err && err->code != VM_ERR_NONE;
}

const char *
vm_error_code_name(vm_err_code code)
{
    if (code <= VM_ERR_NONE || code >= VM_ERR__LAST)
        return "InternalError";
    return codes[code].name;
}

int
vm_error_http_status(vm_err_code code)
{
    if (code <= VM_ERR_NONE || code >= VM_ERR__LAST)
        return 500;
    return codes[code].http;
}
