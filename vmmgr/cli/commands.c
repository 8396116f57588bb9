#include "commands.h"

#include <errno.h>
#include <openssl/evp.h>
#include <limits.h>
#include <stdio.h>
#include <unistd.h>
#include <stdlib.h>
#include <string.h>

#include "../core/cleanup.h"
#include "shorthand.h"
#include "wait.h"

#define END { NULL, 0, NULL, NULL }
#define DRY_RUN { "dry-run", CLI_OPT_BOOL, "DryRun", "check permissions and parameters, change nothing" }
#define IDS { "instance-ids", CLI_OPT_LIST, "InstanceId", "instance ids (i-…)" }
#define FILTERS { "filters", CLI_OPT_SHORTHAND, "Filter", "Name=NAME,Values=V1,V2 …" }

static const cli_opt run_opts[] = {
    { "image-id", CLI_OPT_STR, "ImageId", "the AMI to launch (see describe-images)" },
    { "instance-type", CLI_OPT_STR, "InstanceType", "t3.micro by default (see describe-instance-types)" },
    { "count", CLI_OPT_COUNT, NULL, "N, or MIN:MAX (default 1)" },
    { "tag-specifications", CLI_OPT_SHORTHAND, "TagSpecification",
      "ResourceType=instance,Tags=[{Key=K,Value=V},…]" },
    { "client-token", CLI_OPT_STR, "ClientToken", "idempotency token: a retry returns the first reservation" },
    { "key-name", CLI_OPT_STR, "KeyName", "key pair whose public key the guest installs for root" },
    { "block-device-mappings", CLI_OPT_SHORTHAND, "BlockDeviceMapping",
      "DeviceName=/dev/vda,Ebs={VolumeSize=GIB}: a larger root volume" },
    { "user-data", CLI_OPT_BLOB, "UserData", "TEXT or file://PATH (up to 16 KiB); a #! script runs at first boot" },
    { "disable-api-termination", CLI_OPT_BOOL, "DisableApiTermination", "refuse terminate until modified" },
    { "disable-api-stop", CLI_OPT_BOOL, "DisableApiStop", "refuse stop until modified" },
    { "instance-initiated-shutdown-behavior", CLI_OPT_STR, "InstanceInitiatedShutdownBehavior",
      "stop (default) or terminate: what a power-off from inside the guest does" },
    { "subnet-id", CLI_OPT_STR, "SubnetId", "the subnet (default: the default VPC's, in --placement's zone)" },
    { "placement", CLI_OPT_STRUCT, "Placement", "AvailabilityZone=us-east-1b: without --subnet-id, that zone's default subnet" },
    { "metadata-options", CLI_OPT_STRUCT, "MetadataOptions",
      "HttpTokens=optional|required,HttpEndpoint=enabled|disabled,HttpPutResponseHopLimit=1-64,"
      "InstanceMetadataTags=enabled|disabled: the metadata service at 169.254.169.254" },
    { "security-group-ids", CLI_OPT_LIST, "SecurityGroupId", "groups (sg-…) of the subnet's VPC (default: 'default')" },
    { "security-groups", CLI_OPT_LIST, "SecurityGroup", "group names in the subnet's VPC" },
    { "private-ip-address", CLI_OPT_STR, "PrivateIpAddress", "this address instead of the next free one" },
    DRY_RUN,
    END,
};
static const cli_opt describe_opts[] = {
    IDS, FILTERS,
    { "max-results", CLI_OPT_STR, "MaxResults", "page size (5-1000)" },
    { "next-token", CLI_OPT_STR, "NextToken", "token from the previous page" },
    END,
};
static const cli_opt ids_opts[] = { IDS, DRY_RUN, END };
static const cli_opt stop_opts[] = { IDS, { "force", CLI_OPT_BOOL, "Force", "power off at once" }, DRY_RUN, END };
static const cli_opt console_opts[] = {
    { "instance-id", CLI_OPT_STR, "InstanceId", "the instance" },
    { "latest", CLI_OPT_BOOL, "Latest", "only the most recent output" },
    END,
};
static const cli_opt images_opts[] = {
    { "image-ids", CLI_OPT_LIST, "ImageId", "image ids (ami-…)" },
    { "owners", CLI_OPT_LIST, "Owner", "self" },
    FILTERS, END,
};
static const cli_opt types_opts[] = {
    { "instance-types", CLI_OPT_LIST, "InstanceType", "type names" },
    FILTERS, END,
};
static const cli_opt tags_opts[] = {
    { "resources", CLI_OPT_LIST, "ResourceId", "resource ids" },
    { "tags", CLI_OPT_SHORTHAND, "Tag", "Key=K,Value=V …" },
    DRY_RUN, END,
};
static const cli_opt describe_tags_opts[] = { FILTERS, END };
static const cli_opt describe_attr_opts[] = {
    { "instance-id", CLI_OPT_STR, "InstanceId", "the instance" },
    { "attribute", CLI_OPT_STR, "Attribute", "instanceType, userData, disableApiTermination, disableApiStop, "
                                             "instanceInitiatedShutdownBehavior, rootDeviceName, …" },
    END,
};
static const cli_opt modify_attr_opts[] = {
    { "instance-id", CLI_OPT_STR, "InstanceId", "the instance" },
    { "attribute", CLI_OPT_STR, "Attribute", "the attribute to set with --value" },
    { "value", CLI_OPT_STR, "Value", "its new value" },
    { "disable-api-termination", CLI_OPT_BOOL, "DisableApiTermination.Value", "protect from terminate" },
    { "disable-api-stop", CLI_OPT_BOOL, "DisableApiStop.Value", "protect from stop" },
    { "instance-initiated-shutdown-behavior", CLI_OPT_STRUCT, "InstanceInitiatedShutdownBehavior",
      "Value=stop|terminate" },
    { "instance-type", CLI_OPT_STRUCT, "InstanceType", "Value=TYPE (the instance must be stopped)" },
    { "groups", CLI_OPT_LIST, "GroupId", "replace the security groups (applies to the running guest at once)" },
    { "block-device-mappings", CLI_OPT_SHORTHAND, "BlockDeviceMapping",
      "DeviceName=/dev/sdf,Ebs={DeleteOnTermination=true}: delete the volume with the instance" },
    DRY_RUN, END,
};
static const cli_opt metadata_opts[] = {
    { "instance-id", CLI_OPT_STR, "InstanceId", "the instance" },
    { "http-tokens", CLI_OPT_STR, "HttpTokens", "optional|required (IMDSv2 only)" },
    { "http-endpoint", CLI_OPT_STR, "HttpEndpoint", "enabled|disabled" },
    { "http-put-response-hop-limit", CLI_OPT_STR, "HttpPutResponseHopLimit", "1-64: how far a token travels" },
    { "instance-metadata-tags", CLI_OPT_STR, "InstanceMetadataTags", "enabled|disabled: tags under meta-data/tags/instance" },
    { "http-protocol-ipv6", CLI_OPT_STR, "HttpProtocolIpv6", "disabled (subnets are IPv4 only)" },
    DRY_RUN, END,
};
static const cli_opt regions_opts[] = { { "region-names", CLI_OPT_LIST, "RegionName", "names" }, FILTERS, END };
static const cli_opt zones_opts[] = { { "zone-names", CLI_OPT_LIST, "ZoneName", "names" },
                                       { "zone-ids", CLI_OPT_LIST, "ZoneId", "ids (use1-az1)" }, FILTERS, END };
static const cli_opt account_opts[] = { { "attribute-names", CLI_OPT_LIST, "AttributeName", "names" }, END };
static const cli_opt create_key_opts[] = {
    { "key-name", CLI_OPT_STR, "KeyName", "a unique name" },
    { "key-type", CLI_OPT_STR, "KeyType", "rsa (default) or ed25519" },
    { "key-format", CLI_OPT_STR, "KeyFormat", "pem" },
    { "tag-specifications", CLI_OPT_SHORTHAND, "TagSpecification", "ResourceType=key-pair,Tags=[{Key=K,Value=V}]" },
    DRY_RUN, END,
};
static const cli_opt import_key_opts[] = {
    { "key-name", CLI_OPT_STR, "KeyName", "a unique name" },
    { "public-key-material", CLI_OPT_BLOB, "PublicKeyMaterial", "fileb://~/.ssh/id_ed25519.pub, or the key text" },
    { "tag-specifications", CLI_OPT_SHORTHAND, "TagSpecification", "ResourceType=key-pair,Tags=[{Key=K,Value=V}]" },
    DRY_RUN, END,
};
static const cli_opt describe_keys_opts[] = {
    { "key-names", CLI_OPT_LIST, "KeyName", "names" },
    { "key-pair-ids", CLI_OPT_LIST, "KeyPairId", "ids (key-…)" },
    { "include-public-key", CLI_OPT_BOOL, "IncludePublicKey", "show the public keys" },
    FILTERS, END,
};
static const cli_opt delete_key_opts[] = {
    { "key-name", CLI_OPT_STR, "KeyName", "name" },
    { "key-pair-id", CLI_OPT_STR, "KeyPairId", "id" },
    DRY_RUN, END,
};

static const cli_opt import_opts[] = {
    { "file", CLI_OPT_FILEURL, "DiskContainer.1.Url", "the disk image to import (qcow2 or raw)" },
    { "format", CLI_OPT_STR, "DiskContainer.1.Format", "qcow2 or raw (as the file is; it is checked)" },
    { "name", CLI_OPT_STR, "Name", "a unique AMI name" },
    { "description", CLI_OPT_STR, "Description", "free text" },
    { "boot", CLI_OPT_STR, "BootMode", "bios (default), uefi, or direct (with --kernel and --ramdisk)" },
    { "architecture", CLI_OPT_STR, "Architecture", "x86_64" },
    { "kernel", CLI_OPT_PATH, "KernelFile", "kernel for direct boot" },
    { "ramdisk", CLI_OPT_PATH, "RamdiskFile", "initramfs for direct boot" },
    DRY_RUN, END,
};
static const cli_opt deregister_opts[] = { { "image-id", CLI_OPT_STR, "ImageId", "the AMI" }, DRY_RUN, END };
static const cli_opt create_image_opts[] = {
    { "instance-id", CLI_OPT_STR, "InstanceId", "the instance whose root disk becomes the image" },
    { "name", CLI_OPT_STR, "Name", "a unique AMI name" },
    { "description", CLI_OPT_STR, "Description", "free text" },
    { "no-reboot", CLI_OPT_BOOL, "NoReboot", "copy without shutting the guest down (crash-consistent)" },
    DRY_RUN, END,
};

static const cli_opt create_vol_opts[] = {
    { "size", CLI_OPT_STR, "Size", "GiB (1-16384); from a snapshot: its size unless larger" },
    { "snapshot-id", CLI_OPT_STR, "SnapshotId", "restore this snapshot" },
    { "volume-type", CLI_OPT_STR, "VolumeType", "gp3 (default), gp2, io1, io2, st1, sc1, standard" },
    { "iops", CLI_OPT_STR, "Iops", "for io1, io2 and gp3" },
    { "throughput", CLI_OPT_STR, "Throughput", "MiB/s, for gp3" },
    { "availability-zone", CLI_OPT_STR, "AvailabilityZone", "its zone (the first zone by default)" },
    { "tag-specifications", CLI_OPT_SHORTHAND, "TagSpecification", "ResourceType=volume,Tags=[{Key=K,Value=V}]" },
    { "client-token", CLI_OPT_STR, "ClientToken", "idempotency token" },
    DRY_RUN, END,
};
static const cli_opt describe_vol_opts[] = {
    { "volume-ids", CLI_OPT_LIST, "VolumeId", "ids (vol-…)" },
    FILTERS,
    { "max-results", CLI_OPT_STR, "MaxResults", "page size (5-500)" },
    { "next-token", CLI_OPT_STR, "NextToken", "token from the previous page" },
    END,
};
static const cli_opt vol_id_opts[] = { { "volume-id", CLI_OPT_STR, "VolumeId", "the volume" }, DRY_RUN, END };
static const cli_opt attach_opts[] = {
    { "volume-id", CLI_OPT_STR, "VolumeId", "the volume" },
    { "instance-id", CLI_OPT_STR, "InstanceId", "the instance" },
    { "device", CLI_OPT_STR, "Device", "/dev/sdf … /dev/sdy (the guest sees /dev/vdX)" },
    DRY_RUN, END,
};
static const cli_opt detach_opts[] = {
    { "volume-id", CLI_OPT_STR, "VolumeId", "the volume" },
    { "instance-id", CLI_OPT_STR, "InstanceId", "the instance (checked)" },
    { "device", CLI_OPT_STR, "Device", "the device (checked)" },
    { "force", CLI_OPT_BOOL, "Force", "do not wait for the guest to release it" },
    DRY_RUN, END,
};

static const cli_opt modify_vol_opts[] = {
    { "volume-id", CLI_OPT_STR, "VolumeId", "the volume" },
    { "size", CLI_OPT_STR, "Size", "GiB, not smaller than now (an attached volume grows live)" },
    { "volume-type", CLI_OPT_STR, "VolumeType", "a new type" },
    { "iops", CLI_OPT_STR, "Iops", "new IOPS" },
    { "throughput", CLI_OPT_STR, "Throughput", "new MiB/s" },
    DRY_RUN, END,
};
static const cli_opt describe_mods_opts[] = { { "volume-ids", CLI_OPT_LIST, "VolumeId", "ids" }, FILTERS, END };
static const cli_opt create_snap_opts[] = {
    { "volume-id", CLI_OPT_STR, "VolumeId", "the volume (attached or not)" },
    { "description", CLI_OPT_STR, "Description", "free text" },
    { "tag-specifications", CLI_OPT_SHORTHAND, "TagSpecification", "ResourceType=snapshot,Tags=[{Key=K,Value=V}]" },
    DRY_RUN, END,
};
static const cli_opt describe_snap_opts[] = {
    { "snapshot-ids", CLI_OPT_LIST, "SnapshotId", "ids (snap-…)" },
    { "owner-ids", CLI_OPT_LIST, "Owner", "self" },
    FILTERS, END,
};
static const cli_opt snap_id_opts[] = { { "snapshot-id", CLI_OPT_STR, "SnapshotId", "the snapshot" }, DRY_RUN, END };
static const cli_opt copy_snap_opts[] = {
    { "source-snapshot-id", CLI_OPT_STR, "SourceSnapshotId", "the snapshot" },
    { "source-region", CLI_OPT_STR, "SourceRegion", "this region" },
    { "description", CLI_OPT_STR, "Description", "free text" },
    DRY_RUN, END,
};

static const cli_cmd cmds[] = {
    { "run-instances", "RunInstances", run_opts, "Launch instances from an image", false },
    { "describe-instances", "DescribeInstances", describe_opts, "Show instances", false },
    { "terminate-instances", "TerminateInstances", ids_opts, "Terminate instances (domain and disk go)", false },
    { "stop-instances", "StopInstances", stop_opts, "Shut instances down (forced after a grace period)", false },
    { "start-instances", "StartInstances", ids_opts, "Start stopped instances", false },
    { "reboot-instances", "RebootInstances", ids_opts, "Reboot instances", true },
    { "get-console-output", "GetConsoleOutput", console_opts, "Show an instance's serial console log", false },
    { "describe-images", "DescribeImages", images_opts, "Show images", false },
    { "describe-instance-types", "DescribeInstanceTypes", types_opts, "Show instance types", false },
    { "create-tags", "CreateTags", tags_opts, "Add or overwrite tags", true },
    { "delete-tags", "DeleteTags", tags_opts, "Remove tags", true },
    { "describe-tags", "DescribeTags", describe_tags_opts, "Show tags", false },
    { "describe-instance-attribute", "DescribeInstanceAttribute", describe_attr_opts, "Show one instance attribute",
      false },
    { "modify-instance-attribute", "ModifyInstanceAttribute", modify_attr_opts, "Change one instance attribute",
      true },
    { "modify-instance-metadata-options", "ModifyInstanceMetadataOptions", metadata_opts,
      "Change what the metadata service allows an instance", false },
    { "describe-regions", "DescribeRegions", regions_opts, "Show the region", false },
    { "describe-availability-zones", "DescribeAvailabilityZones", zones_opts, "Show the region's availability zones", false },
    { "describe-account-attributes", "DescribeAccountAttributes", account_opts, "Show account attributes", false },
    { "create-key-pair", "CreateKeyPair", create_key_opts, "Make a key pair (the private key is shown once)", false },
    { "import-key-pair", "ImportKeyPair", import_key_opts, "Register your own OpenSSH public key", false },
    { "describe-key-pairs", "DescribeKeyPairs", describe_keys_opts, "Show key pairs", false },
    { "delete-key-pair", "DeleteKeyPair", delete_key_opts, "Remove a key pair", true },
    { "import-image", "ImportImage", import_opts, "Register a qcow2 or raw disk of this host as an AMI", false },
    { "deregister-image", "DeregisterImage", deregister_opts, "Remove an AMI no instance uses", true },
    { "create-image", "CreateImage", create_image_opts, "Make an AMI from an instance's root disk", false },
    { "create-volume", "CreateVolume", create_vol_opts, "Make an EBS volume (a qcow2 in vmmgr's pool)", false },
    { "describe-volumes", "DescribeVolumes", describe_vol_opts, "Show volumes", false },
    { "delete-volume", "DeleteVolume", vol_id_opts, "Delete a volume that is not attached", true },
    { "attach-volume", "AttachVolume", attach_opts, "Hotplug a volume into an instance", false },
    { "detach-volume", "DetachVolume", detach_opts, "Unplug a volume", false },
    { "modify-volume", "ModifyVolume", modify_vol_opts, "Grow a volume or change its type and limits", false },
    { "describe-volumes-modifications", "DescribeVolumesModifications", describe_mods_opts, "Show modifications",
      false },
    { "create-snapshot", "CreateSnapshot", create_snap_opts, "A point-in-time copy of a volume", false },
    { "describe-snapshots", "DescribeSnapshots", describe_snap_opts, "Show snapshots", false },
    { "delete-snapshot", "DeleteSnapshot", snap_id_opts, "Delete a snapshot", true },
    { "copy-snapshot", "CopySnapshot", copy_snap_opts, "Copy a snapshot", false },
};

const cli_cmd *
cli_cmds(size_t *ret_n)
{
    /* this file's commands, then the VPC's (commands_vpc.c): one table, made once */
    static cli_cmd *all;
    static size_t n;
    if (!all) {
        size_t nv;
        const cli_cmd *v = cli_vpc_cmds(&nv);
        size_t nc = sizeof(cmds) / sizeof(cmds[0]);
        cli_cmd *t = malloc((nc + nv) * sizeof(*t));
        if (!t) {
            *ret_n = nc;
            return cmds;
        }
        memcpy(t, cmds, sizeof(cmds));
        memcpy(t + nc, v, nv * sizeof(*v));
        all = t;
        n = nc + nv;
    }
    *ret_n = n;
    return all;
}

const cli_opt cli_global_opts[] = {
    { "state-dir", CLI_OPT_PATH, NULL, "state directory (env VMMGR_STATE_DIR, default /var/lib/vmmgr)" },
    { "connect", CLI_OPT_STR, NULL, "libvirt URI (env VMMGR_LIBVIRT_URI, default qemu:///system)" },
    { "output", CLI_OPT_STR, NULL, "table (default), json or text" },
    { "query", CLI_OPT_STR, NULL, "print only part of the answer: Reservations[].Instances[].InstanceId" },
    { "version", CLI_OPT_BOOL, NULL, "print vmmgr's version" },
    { "help", CLI_OPT_BOOL, NULL, "describe vmmgr, or with a command, its options" },
    END,
};

static const cli_opt init_opts[] = {
    { "accel", CLI_OPT_STR, NULL, "auto (a short KVM probe boot, TCG if it fails), kvm or tcg" },
    { "default-vpc-cidr", CLI_OPT_STR, NULL, "the default VPC's block (172.31.0.0/16; env VMMGR_DEFAULT_VPC_CIDR)" },
    { "availability-zones", CLI_OPT_STR, NULL,
      "the region's zones, comma-separated (us-east-1a,us-east-1b,us-east-1c); again later to change them" },
    { "uplink", CLI_OPT_STR, NULL,
      "the host interface to the LAN or internet: subnets whose route table leads to an internet gateway leave "
      "through it with source NAT (none: nothing leaves); again later to change it" },
    { "public-ips", CLI_OPT_STR, NULL,
      "FIRST-LAST or a block: addresses of the uplink's LAN that nothing else uses, for Elastic IPs (none: none)" },
    END,
};
static const cli_opt serve_opts[] = {
    { "listen", CLI_OPT_STR, NULL, "ADDR:PORT to listen on (default 127.0.0.1:8773)" },
    { "region", CLI_OPT_STR, NULL, "the region signed requests must name (default us-east-1)" },
    { "workers", CLI_OPT_STR, NULL, "request worker threads (default 4)" },
    { "metrics-interval", CLI_OPT_STR, NULL,
      "seconds between rounds of the metrics sampler, which puts the AWS/EC2 and AWS/EBS metrics of running "
      "instances (default 10; 0: off)" },
    { "metrics-listen", CLI_OPT_STR, NULL,
      "ADDR:PORT where GET /metrics answers Prometheus without signing (off by default; 127.0.0.1:9773, say)" },
    END,
};
static const cli_opt no_opts[] = { END };
static const cli_opt top_opts[] = {
    { "delay", CLI_OPT_STR, NULL, "seconds between frames (default 2)" },
    { "iterations", CLI_OPT_STR, NULL, "frames to show (default: until interrupted on a terminal, else 1)" },
    END,
};
static const cli_opt delete_access_key_opts[] = {
    { "access-key-id", CLI_OPT_STR, NULL, "the key to remove" },
    END,
};
static const cli_opt audit_opts[] = { { "max-items", CLI_OPT_STR, NULL, "how many records (default 50)" }, END };

static const cli_cmd local_cmds[] = {
    { "init", NULL, init_opts, "Create the state store, choose KVM or TCG, build the tiny image, make the default VPC",
      false },
    { "wait", NULL, cli_wait_opts, "Wait until instances, images, volumes or snapshots reach a state (WAITER)",
      false },
    { "serve", NULL, serve_opts, "Run the EC2 HTTP API (SigV4) and the background loops", false },
    { "create-access-key", NULL, no_opts, "Make an access key for the API (the secret is shown once)", false },
    { "list-access-keys", NULL, no_opts, "Show access key ids", false },
    { "delete-access-key", NULL, delete_access_key_opts, "Remove an access key", false },
    { "audit", NULL, audit_opts, "Show the newest audit records", false },
    { "top", NULL, top_opts, "Show the instances' CPU, network and disk rates, busiest first (like virt-top)",
      false },
};

const cli_cmd *
cli_local_cmds(size_t *ret_n)
{
    *ret_n = sizeof(local_cmds) / sizeof(local_cmds[0]);
    return local_cmds;
}

const cli_cmd *
cli_local_find(const char *name)
{
    for (size_t i = 0; i < sizeof(local_cmds) / sizeof(local_cmds[0]); i++)
        if (strcmp(local_cmds[i].name, name) == 0)
            return &local_cmds[i];
    return NULL;
}

/* --- other services' namespaces, as the aws CLI names them ------------------------------------- */

#define ASG_NAME { "auto-scaling-group-name", CLI_OPT_STR, "AutoScalingGroupName", "the group's name" }
#define ASG_CONFIG                                                                                                   \
    { "launch-template", CLI_OPT_STRUCT, "LaunchTemplate",                                                           \
      "LaunchTemplateName=NAME|LaunchTemplateId=ID,Version=N|$Latest|$Default" },                                    \
        { "min-size", CLI_OPT_STR, "MinSize", "the fewest instances" },                                              \
        { "max-size", CLI_OPT_STR, "MaxSize", "the most instances" },                                                \
        { "desired-capacity", CLI_OPT_STR, "DesiredCapacity", "how many to run (min by default)" },                 \
        { "default-cooldown", CLI_OPT_STR, "DefaultCooldown", "seconds between simple scaling actions (300)" },      \
        { "vpc-zone-identifier", CLI_OPT_STR, "VPCZoneIdentifier", "subnet-a,subnet-b: where instances go" },        \
        { "availability-zones", CLI_OPT_LIST, "AvailabilityZones.member", "the zone (its default subnet)" },        \
        { "health-check-type", CLI_OPT_STR, "HealthCheckType", "EC2 (default) or ELB" },                             \
        { "target-group-arns", CLI_OPT_LIST, "TargetGroupARNs.member", "target groups its InService instances join" }, \
        { "health-check-grace-period", CLI_OPT_STR, "HealthCheckGracePeriod", "seconds before health counts" },      \
        { "termination-policies", CLI_OPT_LIST, "TerminationPolicies.member",                                        \
          "Default, OldestInstance, NewestInstance, OldestLaunchTemplate …" },                                       \
    {                                                                                                                \
        "new-instances-protected-from-scale-in", CLI_OPT_BOOL, "NewInstancesProtectedFromScaleIn",                   \
            "new instances are not chosen by scale-in"                                                               \
    }
static const cli_opt asg_create_opts[] = {
    ASG_NAME,
    ASG_CONFIG,
    { "tags", CLI_OPT_SHORTHAND, "Tags.member", "Key=K,Value=V,PropagateAtLaunch=true …" },
    END,
};
static const cli_opt asg_update_opts[] = { ASG_NAME, ASG_CONFIG, END };
static const cli_opt asg_delete_opts[] = {
    ASG_NAME,
    { "force-delete", CLI_OPT_BOOL, "ForceDelete", "terminate its instances too" },
    END,
};
static const cli_opt asg_describe_opts[] = {
    { "auto-scaling-group-names", CLI_OPT_LIST, "AutoScalingGroupNames.member", "only these groups" },
    { "filters", CLI_OPT_SHORTHAND, "Filters.member", "Name=tag:KEY|tag-key|tag-value,Values=V1,V2 …" },
    END,
};
static const cli_opt asg_instances_opts[] = {
    { "instance-ids", CLI_OPT_LIST, "InstanceIds.member", "only these instances" },
    END,
};
static const cli_opt asg_desired_opts[] = {
    ASG_NAME,
    { "desired-capacity", CLI_OPT_STR, "DesiredCapacity", "how many to run" },
    { "honor-cooldown", CLI_OPT_BOOL, "HonorCooldown", "wait for the cooldown to end" },
    END,
};
static const cli_opt asg_terminate_opts[] = {
    { "instance-id", CLI_OPT_STR, "InstanceId", "the instance" },
    { "should-decrement-desired-capacity", CLI_OPT_BOOL, "ShouldDecrementDesiredCapacity",
      "lower desired (else it is replaced)" },
    END,
};
static const cli_opt asg_activities_opts[] = {
    { "auto-scaling-group-name", CLI_OPT_STR, "AutoScalingGroupName", "only this group's" },
    { "activity-ids", CLI_OPT_LIST, "ActivityIds.member", "only these" },
    END,
};
static const cli_opt asg_protection_opts[] = {
    { "instance-ids", CLI_OPT_LIST, "InstanceIds.member", "the instances" },
    ASG_NAME,
    { "protected-from-scale-in", CLI_OPT_BOOL, "ProtectedFromScaleIn", "whether scale-in may choose them" },
    END,
};
static const cli_opt asg_tags_opts[] = {
    { "tags", CLI_OPT_SHORTHAND, "Tags.member",
      "ResourceId=GROUP,ResourceType=auto-scaling-group,Key=K,Value=V,PropagateAtLaunch=true …" },
    END,
};
static const cli_opt asg_describe_tags_opts[] = {
    { "filters", CLI_OPT_SHORTHAND, "Filters.member",
      "Name=auto-scaling-group|key|value|propagate-at-launch,Values=V1,V2 …" },
    END,
};

static const cli_opt asg_put_policy_opts[] = {
    ASG_NAME,
    { "policy-name", CLI_OPT_STR, "PolicyName", "the policy's name (a new one, or the one to replace)" },
    { "policy-type", CLI_OPT_STR, "PolicyType", "SimpleScaling (default), StepScaling or TargetTrackingScaling" },
    { "adjustment-type", CLI_OPT_STR, "AdjustmentType", "ChangeInCapacity, ExactCapacity or PercentChangeInCapacity" },
    { "scaling-adjustment", CLI_OPT_STR, "ScalingAdjustment", "instances (or percent) to add; negative removes" },
    { "cooldown", CLI_OPT_STR, "Cooldown", "seconds before another simple scaling (the group's default)" },
    { "min-adjustment-magnitude", CLI_OPT_STR, "MinAdjustmentMagnitude", "with PercentChangeInCapacity" },
    { "step-adjustments", CLI_OPT_SHORTHAND, "StepAdjustments.member",
      "MetricIntervalLowerBound=0,MetricIntervalUpperBound=10,ScalingAdjustment=1 …" },
    { "metric-aggregation-type", CLI_OPT_STR, "MetricAggregationType", "Average, Minimum or Maximum" },
    { "estimated-instance-warmup", CLI_OPT_STR, "EstimatedInstanceWarmup", "seconds" },
    { "target-tracking-configuration", CLI_OPT_STRUCT, "TargetTrackingConfiguration",
      "PredefinedMetricSpecification={PredefinedMetricType=ASGAverageCPUUtilization},TargetValue=50" },
    { "enabled", CLI_OPT_BOOL, "Enabled", "whether it runs (default yes)" },
    END,
};
static const cli_opt asg_describe_policies_opts[] = {
    { "auto-scaling-group-name", CLI_OPT_STR, "AutoScalingGroupName", "only this group's" },
    { "policy-names", CLI_OPT_LIST, "PolicyNames.member", "only these (names or ARNs)" },
    { "policy-types", CLI_OPT_LIST, "PolicyTypes.member", "only these types" },
    END,
};
static const cli_opt asg_policy_opts[] = {
    { "auto-scaling-group-name", CLI_OPT_STR, "AutoScalingGroupName", "the group" },
    { "policy-name", CLI_OPT_STR, "PolicyName", "the policy (name or ARN)" },
    END,
};
static const cli_opt asg_execute_policy_opts[] = {
    { "auto-scaling-group-name", CLI_OPT_STR, "AutoScalingGroupName", "the group" },
    { "policy-name", CLI_OPT_STR, "PolicyName", "the policy (name or ARN)" },
    { "honor-cooldown", CLI_OPT_BOOL, "HonorCooldown", "refuse during the cooldown" },
    { "metric-value", CLI_OPT_STR, "MetricValue", "for a step policy: the metric's value" },
    { "breach-threshold", CLI_OPT_STR, "BreachThreshold", "for a step policy: the alarm's threshold" },
    END,
};

static const cli_opt asg_put_warm_pool_opts[] = {
    ASG_NAME,
    { "max-group-prepared-capacity", CLI_OPT_STR, "MaxGroupPreparedCapacity",
      "group plus pool at most (default: the group's max size)" },
    { "min-size", CLI_OPT_STR, "MinSize", "the fewest instances in the pool" },
    { "pool-state", CLI_OPT_STR, "PoolState", "Stopped (default), Hibernated (memory saved) or Running" },
    { "instance-reuse-policy", CLI_OPT_STRUCT, "InstanceReusePolicy", "ReuseOnScaleIn=true: scale-in returns instances" },
    END,
};
static const cli_opt asg_warm_pool_opts[] = { ASG_NAME, END };
static const cli_opt asg_delete_warm_pool_opts[] = {
    ASG_NAME,
    { "force-delete", CLI_OPT_BOOL, "ForceDelete", "without waiting for its instances" },
    END,
};

static const cli_opt asg_processes_opts[] = {
    ASG_NAME,
    { "scaling-processes", CLI_OPT_LIST, "ScalingProcesses.member",
      "Launch, Terminate, HealthCheck, ReplaceUnhealthy, AlarmNotification, … (none: all)" },
    END,
};
static const cli_opt asg_standby_opts[] = {
    { "instance-ids", CLI_OPT_LIST, "InstanceIds.member", "the instances" },
    ASG_NAME,
    { "should-decrement-desired-capacity", CLI_OPT_BOOL, "ShouldDecrementDesiredCapacity",
      "lower desired (else they are replaced)" },
    END,
};
static const cli_opt asg_tgs_opts[] = {
    ASG_NAME,
    { "target-group-arns", CLI_OPT_LIST, "TargetGroupARNs.member", "the target groups" },
    END,
};
static const cli_opt asg_exit_standby_opts[] = {
    { "instance-ids", CLI_OPT_LIST, "InstanceIds.member", "the instances" },
    ASG_NAME,
    END,
};
static const cli_opt asg_put_hook_opts[] = {
    ASG_NAME,
    { "lifecycle-hook-name", CLI_OPT_STR, "LifecycleHookName", "the hook's name (a new one, or the one to change)" },
    { "lifecycle-transition", CLI_OPT_STR, "LifecycleTransition",
      "autoscaling:EC2_INSTANCE_LAUNCHING or autoscaling:EC2_INSTANCE_TERMINATING" },
    { "heartbeat-timeout", CLI_OPT_STR, "HeartbeatTimeout", "seconds an instance waits (30-7200, 3600)" },
    { "default-result", CLI_OPT_STR, "DefaultResult", "CONTINUE or ABANDON (default) when the wait times out" },
    { "notification-metadata", CLI_OPT_STR, "NotificationMetadata", "free text kept with the hook" },
    { "notification-target-arn", CLI_OPT_STR, "NotificationTargetARN", "kept (no notification is sent)" },
    { "role-arn", CLI_OPT_STR, "RoleARN", "kept" },
    END,
};
static const cli_opt asg_describe_hooks_opts[] = {
    ASG_NAME,
    { "lifecycle-hook-names", CLI_OPT_LIST, "LifecycleHookNames.member", "only these hooks" },
    END,
};
static const cli_opt asg_delete_hook_opts[] = {
    ASG_NAME,
    { "lifecycle-hook-name", CLI_OPT_STR, "LifecycleHookName", "the hook (its waits end)" },
    END,
};
static const cli_opt asg_complete_action_opts[] = {
    ASG_NAME,
    { "lifecycle-hook-name", CLI_OPT_STR, "LifecycleHookName", "the hook" },
    { "instance-id", CLI_OPT_STR, "InstanceId", "the waiting instance (or --lifecycle-action-token)" },
    { "lifecycle-action-token", CLI_OPT_STR, "LifecycleActionToken", "the wait's token" },
    { "lifecycle-action-result", CLI_OPT_STR, "LifecycleActionResult", "CONTINUE or ABANDON" },
    END,
};
static const cli_opt asg_heartbeat_opts[] = {
    ASG_NAME,
    { "lifecycle-hook-name", CLI_OPT_STR, "LifecycleHookName", "the hook" },
    { "instance-id", CLI_OPT_STR, "InstanceId", "the waiting instance (or --lifecycle-action-token)" },
    { "lifecycle-action-token", CLI_OPT_STR, "LifecycleActionToken", "the wait's token" },
    END,
};
static const cli_opt asg_start_refresh_opts[] = {
    ASG_NAME,
    { "strategy", CLI_OPT_STR, "Strategy", "Rolling (the only one)" },
    { "desired-configuration", CLI_OPT_STRUCT, "DesiredConfiguration",
      "LaunchTemplate={LaunchTemplateName=NAME,Version=N}: the group's template from now on" },
    { "preferences", CLI_OPT_STRUCT, "Preferences", "MinHealthyPercentage=90,InstanceWarmup=SECONDS,SkipMatching=true" },
    END,
};
static const cli_opt asg_describe_refreshes_opts[] = {
    ASG_NAME,
    { "instance-refresh-ids", CLI_OPT_LIST, "InstanceRefreshIds.member", "only these" },
    END,
};
static const cli_opt asg_cancel_refresh_opts[] = { ASG_NAME, END };
static const cli_opt asg_put_scheduled_opts[] = {
    ASG_NAME,
    { "scheduled-action-name", CLI_OPT_STR, "ScheduledActionName", "the action's name (a new one or one to replace)" },
    { "start-time", CLI_OPT_STR, "StartTime", "2026-12-24T08:00:00Z: the (first) run" },
    { "end-time", CLI_OPT_STR, "EndTime", "no run after it" },
    { "recurrence", CLI_OPT_STR, "Recurrence", "a Unix cron expression: \"0 8 * * MON-FRI\"" },
    { "time-zone", CLI_OPT_STR, "TimeZone", "an IANA zone for the recurrence (UTC by default)" },
    { "min-size", CLI_OPT_STR, "MinSize", "the group's new min size" },
    { "max-size", CLI_OPT_STR, "MaxSize", "the group's new max size" },
    { "desired-capacity", CLI_OPT_STR, "DesiredCapacity", "the group's new desired capacity" },
    END,
};
static const cli_opt asg_describe_scheduled_opts[] = {
    { "auto-scaling-group-name", CLI_OPT_STR, "AutoScalingGroupName", "only this group's" },
    { "scheduled-action-names", CLI_OPT_LIST, "ScheduledActionNames.member", "only these" },
    { "start-time", CLI_OPT_STR, "StartTime", "only those whose next run is at or after" },
    { "end-time", CLI_OPT_STR, "EndTime", "only those whose next run is at or before" },
    END,
};
static const cli_opt asg_delete_scheduled_opts[] = {
    ASG_NAME,
    { "scheduled-action-name", CLI_OPT_STR, "ScheduledActionName", "the action" },
    END,
};
static const cli_opt asg_batch_put_scheduled_opts[] = {
    ASG_NAME,
    { "scheduled-update-group-actions", CLI_OPT_SHORTHAND, "ScheduledUpdateGroupActions.member",
      "ScheduledActionName=N,StartTime=T|Recurrence=CRON[,TimeZone=Z],MinSize=,MaxSize=,DesiredCapacity= … (up to 50)" },
    END,
};
static const cli_opt asg_batch_delete_scheduled_opts[] = {
    ASG_NAME,
    { "scheduled-action-names", CLI_OPT_LIST, "ScheduledActionNames.member", "the actions (up to 50)" },
    END,
};
static const cli_opt asg_attach_opts[] = {
    { "instance-ids", CLI_OPT_LIST, "InstanceIds.member", "running instances in the group's subnets" },
    ASG_NAME,
    END,
};
static const cli_opt asg_detach_opts[] = {
    { "instance-ids", CLI_OPT_LIST, "InstanceIds.member", "the group's instances (they keep running)" },
    ASG_NAME,
    { "should-decrement-desired-capacity", CLI_OPT_BOOL, "ShouldDecrementDesiredCapacity",
      "lower desired (else they are replaced)" },
    END,
};

static const cli_opt asg_health_opts[] = {
    { "instance-id", CLI_OPT_STR, "InstanceId", "the instance" },
    { "health-status", CLI_OPT_STR, "HealthStatus", "Healthy or Unhealthy (then replaced)" },
    { "should-respect-grace-period", CLI_OPT_BOOL, "ShouldRespectGracePeriod", "accepted" },
    END,
};

static const cli_cmd service_cmds[] = {
    { "put-lifecycle-hook", "PutLifecycleHook", asg_put_hook_opts,
      "Make launches or terminations wait (Pending:Wait, Terminating:Wait) until completed", true, "autoscaling" },
    { "describe-lifecycle-hooks", "DescribeLifecycleHooks", asg_describe_hooks_opts, "Show a group's lifecycle hooks",
      false, "autoscaling" },
    { "delete-lifecycle-hook", "DeleteLifecycleHook", asg_delete_hook_opts, "Delete a lifecycle hook", true,
      "autoscaling" },
    { "complete-lifecycle-action", "CompleteLifecycleAction", asg_complete_action_opts,
      "Let a waiting instance go on (CONTINUE) or fail it (ABANDON)", true, "autoscaling" },
    { "record-lifecycle-action-heartbeat", "RecordLifecycleActionHeartbeat", asg_heartbeat_opts,
      "Give a waiting instance another heartbeat timeout", true, "autoscaling" },
    { "start-instance-refresh", "StartInstanceRefresh", asg_start_refresh_opts,
      "Replace a group's instances in batches, keeping MinHealthyPercentage in service", false, "autoscaling" },
    { "describe-instance-refreshes", "DescribeInstanceRefreshes", asg_describe_refreshes_opts,
      "Show a group's instance refreshes and their progress", false, "autoscaling" },
    { "cancel-instance-refresh", "CancelInstanceRefresh", asg_cancel_refresh_opts, "Stop a group's instance refresh",
      false, "autoscaling" },
    { "put-scheduled-update-group-action", "PutScheduledUpdateGroupAction", asg_put_scheduled_opts,
      "Change a group's sizes at a time, or on a cron schedule", true, "autoscaling" },
    { "describe-scheduled-actions", "DescribeScheduledActions", asg_describe_scheduled_opts,
      "Show scheduled actions and their next run", false, "autoscaling" },
    { "delete-scheduled-action", "DeleteScheduledAction", asg_delete_scheduled_opts, "Delete a scheduled action",
      true, "autoscaling" },
    { "batch-put-scheduled-update-group-action", "BatchPutScheduledUpdateGroupAction", asg_batch_put_scheduled_opts,
      "Create or change several scheduled actions; lists those that failed", false, "autoscaling" },
    { "batch-delete-scheduled-action", "BatchDeleteScheduledAction", asg_batch_delete_scheduled_opts,
      "Delete several scheduled actions; lists those that failed", false, "autoscaling" },
    { "attach-instances", "AttachInstances", asg_attach_opts, "Make running instances members of a group", true,
      "autoscaling" },
    { "detach-instances", "DetachInstances", asg_detach_opts, "Take instances out of a group, leaving them running",
      false, "autoscaling" },
    { "suspend-processes", "SuspendProcesses", asg_processes_opts, "Stop some of a group's processes", true,
      "autoscaling" },
    { "resume-processes", "ResumeProcesses", asg_processes_opts, "Resume a group's processes", true, "autoscaling" },
    { "attach-load-balancer-target-groups", "AttachLoadBalancerTargetGroups", asg_tgs_opts,
      "Register the group's InService instances in target groups", true, "autoscaling" },
    { "detach-load-balancer-target-groups", "DetachLoadBalancerTargetGroups", asg_tgs_opts,
      "Deregister (drain) the group's instances from target groups", true, "autoscaling" },
    { "describe-load-balancer-target-groups", "DescribeLoadBalancerTargetGroups", asg_warm_pool_opts,
      "Show a group's target groups", false, "autoscaling" },
    { "enter-standby", "EnterStandby", asg_standby_opts, "Take InService instances out of service for a while",
      false, "autoscaling" },
    { "exit-standby", "ExitStandby", asg_exit_standby_opts, "Put instances in Standby back in service", false,
      "autoscaling" },
    { "set-instance-health", "SetInstanceHealth", asg_health_opts, "Mark an instance Healthy or Unhealthy", true,
      "autoscaling" },
    { "put-warm-pool", "PutWarmPool", asg_put_warm_pool_opts,
      "Keep instances launched ahead of need, stopped, hibernated or running", true, "autoscaling" },
    { "describe-warm-pool", "DescribeWarmPool", asg_warm_pool_opts, "Show a group's warm pool and its instances",
      false, "autoscaling" },
    { "delete-warm-pool", "DeleteWarmPool", asg_delete_warm_pool_opts, "Delete a group's warm pool (its instances go)",
      true, "autoscaling" },
    { "put-scaling-policy", "PutScalingPolicy", asg_put_policy_opts,
      "Create or replace a simple, step or target tracking scaling policy", false, "autoscaling" },
    { "describe-policies", "DescribePolicies", asg_describe_policies_opts, "Show scaling policies", false,
      "autoscaling" },
    { "delete-policy", "DeletePolicy", asg_policy_opts, "Delete a scaling policy (and its target tracking alarms)",
      true, "autoscaling" },
    { "execute-policy", "ExecutePolicy", asg_execute_policy_opts, "Run a scaling policy now", true, "autoscaling" },
    { "create-auto-scaling-group", "CreateAutoScalingGroup", asg_create_opts,
      "Create a group that keeps desired instances of a launch template running", true, "autoscaling" },
    { "update-auto-scaling-group", "UpdateAutoScalingGroup", asg_update_opts,
      "Change a group's template, sizes, subnets or policies", true, "autoscaling" },
    { "delete-auto-scaling-group", "DeleteAutoScalingGroup", asg_delete_opts,
      "Delete a group (with --force-delete, its instances too)", true, "autoscaling" },
    { "describe-auto-scaling-groups", "DescribeAutoScalingGroups", asg_describe_opts,
      "Show groups, their sizes and instances", false, "autoscaling" },
    { "describe-auto-scaling-instances", "DescribeAutoScalingInstances", asg_instances_opts,
      "Show the instances of groups and their lifecycle", false, "autoscaling" },
    { "set-desired-capacity", "SetDesiredCapacity", asg_desired_opts, "Scale a group to a number of instances", true,
      "autoscaling" },
    { "terminate-instance-in-auto-scaling-group", "TerminateInstanceInAutoScalingGroup", asg_terminate_opts,
      "Terminate a group's instance (replaced unless desired is lowered)", false, "autoscaling" },
    { "describe-scaling-activities", "DescribeScalingActivities", asg_activities_opts,
      "Show what groups did and why, newest first", false, "autoscaling" },
    { "set-instance-protection", "SetInstanceProtection", asg_protection_opts,
      "Protect instances from scale-in (or not)", true, "autoscaling" },
    { "create-or-update-tags", "CreateOrUpdateTags", asg_tags_opts, "Tag groups", true, "autoscaling" },
    { "delete-tags", "DeleteTags", asg_tags_opts, "Remove groups' tags", true, "autoscaling" },
    { "describe-tags", "DescribeTags", asg_describe_tags_opts, "Show groups' tags", false, "autoscaling" },
};

const cli_cmd *
cli_service_cmd_find(const char *service, const char *name)
{
    size_t n;
    const cli_cmd *all = cli_service_cmds(service, &n);
    for (size_t i = 0; i < n; i++)
        if (strcmp(all[i].service, service) == 0 && strcmp(all[i].name, name) == 0)
            return &all[i];
    return NULL;
}

const cli_cmd *
cli_service_cmds(const char *service, size_t *ret_n)
{
    if (strcmp(service, "elbv2") == 0)
        return cli_elbv2_cmds(ret_n);
    if (strcmp(service, "cloudwatch") == 0)
        return cli_cloudwatch_cmds(ret_n);
    if (strcmp(service, "acm") == 0)
        return cli_acm_cmds(ret_n);
    *ret_n = sizeof(service_cmds) / sizeof(service_cmds[0]);
    return service_cmds;
}

const cli_cmd *
cli_cmd_find(const char *name)
{
    size_t n;
    const cli_cmd *all = cli_cmds(&n);
    for (size_t i = 0; i < n; i++)
        if (strcmp(all[i].name, name) == 0)
            return &all[i];
    return NULL;
}

static const cli_opt *
find_opt(const cli_cmd *cmd, const char *arg, bool *ret_negated)
{
    *ret_negated = false;
    if (strncmp(arg, "--", 2) != 0)
        return NULL;
    const char *name = arg + 2;
    for (const cli_opt *o = cmd->opts; o->name; o++) {
        if (strcmp(o->name, name) == 0)
            return o;
        if (o->kind == CLI_OPT_BOOL && strncmp(name, "no-", 3) == 0 && strcmp(o->name, name + 3) == 0) {
            *ret_negated = true;
            return o;
        }
    }
    return NULL;
}

static int
set_count(const char *v, vm_params *p, vm_error *err)
{
    char *end;
    long min = strtol(v, &end, 10), max = min;
    if (*end == ':')
        max = strtol(end + 1, &end, 10);
    if (*end || end == v || min < 1 || max < min)
        return vm_error_set(err, VM_ERR_INVALID_PARAMETER_VALUE, "--count takes N or MIN:MAX, not '%s'", v);
    char a[24], b[24];
    snprintf(a, sizeof(a), "%ld", min);
    snprintf(b, sizeof(b), "%ld", max);
    vm_params_set(p, "MinCount", a);
    vm_params_set(p, "MaxCount", b);
    return 0;
}

/* TEXT, file://PATH or fileb://PATH, base64-encoded as the wire wants blobs and user data */
static int
set_blob(const cli_opt *o, const char *v, vm_params *p, vm_error *err)
{
    _cleanup_free_ char *content = NULL;
    size_t len;
    const char *path = strncmp(v, "fileb://", 8) == 0 ? v + 8 : strncmp(v, "file://", 7) == 0 ? v + 7 : NULL;
    if (path) {
        FILE *f = fopen(path, "re");
        if (!f)
            return vm_error_set_errno(err, errno, VM_ERR_INVALID_PARAMETER_VALUE, "--%s: cannot read '%s'", o->name,
                                      path);
        content = malloc(64 * 1024 + 1);
        len = content ? fread(content, 1, 64 * 1024 + 1, f) : 0;
        fclose(f);
        if (!content)
            return vm_error_set(err, VM_ERR_INTERNAL, "out of memory");
        if (len > 64 * 1024)
            return vm_error_set(err, VM_ERR_INVALID_PARAMETER_VALUE, "--%s: '%s' is larger than 64 KiB", o->name, path);
    } else {
        if (!(content = strdup(v)))
            return vm_error_set(err, VM_ERR_INTERNAL, "out of memory");
        len = strlen(v);
    }
    _cleanup_free_ char *b64 = malloc(4 * ((len + 2) / 3) + 1);
    if (!b64)
        return vm_error_set(err, VM_ERR_INTERNAL, "out of memory");
    EVP_EncodeBlock((unsigned char *)b64, (const unsigned char *)content, (int)len);
    vm_params_set(p, o->param, b64);
    return 0;
}

int
cli_args_to_params(const cli_cmd *cmd, int argc, char **argv, vm_params *p, vm_error *err)
{
    bool counted = false;
    for (int i = 0; i < argc;) {
        bool neg;
        const cli_opt *o = find_opt(cmd, argv[i], &neg);
        if (!o)
            return vm_error_set(err, VM_ERR_INVALID_PARAMETER_VALUE, "unknown option '%s' for %s (see --help)", argv[i],
                                cmd->name);
        i++;
        /* values run up to the next option */
        int first = i;
        while (i < argc && strncmp(argv[i], "--", 2) != 0)
            i++;
        int nvals = i - first;
        if (o->kind == CLI_OPT_BOOL) {
            if (nvals)
                return vm_error_set(err, VM_ERR_INVALID_PARAMETER_VALUE, "--%s takes no value", o->name);
            vm_params_set(p, o->param, neg ? "false" : "true");
            continue;
        }
        if (nvals == 0)
            return vm_error_set(err, VM_ERR_INVALID_PARAMETER_VALUE, "--%s needs a value", o->name);
        if ((o->kind == CLI_OPT_STR || o->kind == CLI_OPT_COUNT) && nvals != 1)
            return vm_error_set(err, VM_ERR_INVALID_PARAMETER_VALUE, "--%s takes one value", o->name);
        switch (o->kind) {
        case CLI_OPT_STR:
            vm_params_set(p, o->param, argv[first]);
            break;
        case CLI_OPT_COUNT:
            if (set_count(argv[first], p, err) < 0)
                return -1;
            counted = true;
            break;
        case CLI_OPT_LIST:
            for (int k = 0; k < nvals; k++)
                vm_params_setf(p, argv[first + k], "%s.%d", o->param, k + 1);
            break;
        case CLI_OPT_SHORTHAND:
            for (int k = 0; k < nvals; k++) {
                char prefix[64];
                snprintf(prefix, sizeof(prefix), "%s.%d", o->param, k + 1);
                if (cli_shorthand_parse(argv[first + k], prefix, p, err) < 0)
                    return -1;
            }
            break;
        case CLI_OPT_BLOB:
            if (nvals != 1)
                return vm_error_set(err, VM_ERR_INVALID_PARAMETER_VALUE, "--%s takes one value", o->name);
            if (set_blob(o, argv[first], p, err) < 0)
                return -1;
            break;
        case CLI_OPT_PATH:
        case CLI_OPT_FILEURL: {
            if (nvals != 1)
                return vm_error_set(err, VM_ERR_INVALID_PARAMETER_VALUE, "--%s takes one value", o->name);
            char real[4096], url[4200];
            if (!realpath(argv[first], real))
                return vm_error_set_errno(err, errno, VM_ERR_INVALID_PARAMETER_VALUE, "--%s: '%s'", o->name,
                                          argv[first]);
            snprintf(url, sizeof(url), "%s%s", o->kind == CLI_OPT_FILEURL ? "file://" : "", real);
            vm_params_set(p, o->param, url);
            break;
        }
        case CLI_OPT_STRUCT:
            if (nvals != 1)
                return vm_error_set(err, VM_ERR_INVALID_PARAMETER_VALUE, "--%s takes one value", o->name);
            if (cli_shorthand_parse(argv[first], o->param, p, err) < 0)
                return -1;
            break;
        case CLI_OPT_PORTS: {
            if (nvals != 1)
                return vm_error_set(err, VM_ERR_INVALID_PARAMETER_VALUE, "--%s takes one value", o->name);
            char from[24] = "", to[24] = "";
            const char *v = argv[first], *dash = strchr(v + (*v == '-'), '-');
            if (strcmp(v, "all") == 0 || strcmp(v, "-1") == 0)
                v = "-1";
            snprintf(from, sizeof(from), "%.*s", dash ? (int)(dash - v) : (int)strlen(v), v);
            snprintf(to, sizeof(to), "%s", dash ? dash + 1 : from);
            vm_params_set(p, "FromPort", from);
            vm_params_set(p, "ToPort", to);
            break;
        }
        case CLI_OPT_DIMS:
            /* NAME=VALUE pairs, comma-separated, in one or more words */
            for (int k = 0, n = 0; k < nvals; k++) {
                _cleanup_free_ char *copy = strdup(argv[first + k]);
                char *save = NULL;
                for (char *pair = copy ? strtok_r(copy, ",", &save) : NULL; pair; pair = strtok_r(NULL, ",", &save)) {
                    char *eq = strchr(pair, '=');
                    if (!eq || eq == pair)
                        return vm_error_set(err, VM_ERR_INVALID_PARAMETER_VALUE,
                                            "--%s: '%s' is not NAME=VALUE", o->name, pair);
                    *eq = '\0';
                    n++;
                    vm_params_setf(p, pair, "%s.%d.Name", o->param, n);
                    vm_params_setf(p, eq + 1, "%s.%d.Value", o->param, n);
                }
            }
            break;
        case CLI_OPT_BOOL:
            break;
        }
    }
    if (strcmp(cmd->action, "RunInstances") == 0 && !counted)
        set_count("1", p, err);
    return 0;
}

bool
cli_cmd_progress(const cli_cmd *cmd)
{
    /* a long copy shows qemu-img's progress when a person watches */
    return cmd->action &&
           (strcmp(cmd->action, "ImportImage") == 0 || strcmp(cmd->action, "CreateSnapshot") == 0 ||
            strcmp(cmd->action, "CopySnapshot") == 0) &&
           isatty(STDERR_FILENO);
}

void
cli_cmd_usage(const cli_cmd *cmd)
{
    if (cmd->action && cmd->service)
        printf("usage: vmmgr [global options] %s %s [options]\n\n%s (%s %s).\n\nOptions:\n", cmd->service, cmd->name,
               cmd->help,
               strcmp(cmd->service, "cloudwatch") == 0    ? "CloudWatch"
               : strcmp(cmd->service, "autoscaling") == 0 ? "Auto Scaling"
                                                          : cmd->service,
               cmd->action);
    else if (cmd->action)
        printf("usage: vmmgr [global options] %s [options]\n\n%s (EC2 %s).\n\nOptions:\n", cmd->name, cmd->help,
               cmd->action);
    else
        printf("usage: vmmgr [global options] %s [options]\n\n%s.\n\nOptions:\n", cmd->name, cmd->help);
    for (const cli_opt *o = cmd->opts; o->name; o++)
        printf("  --%-22s %s\n", o->name, o->help);
}
