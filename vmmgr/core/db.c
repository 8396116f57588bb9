#include "db.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* Each entry moves the schema from version i to i+1.  Never edit an entry that has shipped: add one. */
static const char *const migrations[] = {
    /* 1: the foundation */
    "CREATE TABLE config ("
    "  key TEXT PRIMARY KEY,"
    "  value TEXT NOT NULL);"
    "CREATE TABLE images ("
    "  id TEXT PRIMARY KEY,"
    "  name TEXT NOT NULL UNIQUE,"
    "  description TEXT NOT NULL DEFAULT '',"
    "  state TEXT NOT NULL,"
    "  boot TEXT NOT NULL,"
    "  architecture TEXT NOT NULL DEFAULT 'x86_64',"
    "  base_path TEXT NOT NULL,"
    "  kernel_path TEXT,"
    "  initrd_path TEXT,"
    "  created_at INTEGER NOT NULL);"
    "CREATE TABLE reservations ("
    "  id TEXT PRIMARY KEY,"
    "  client_token TEXT UNIQUE,"
    "  request TEXT NOT NULL,"
    "  created_at INTEGER NOT NULL);"
    "CREATE TABLE instances ("
    "  id TEXT PRIMARY KEY,"
    "  reservation_id TEXT NOT NULL REFERENCES reservations(id),"
    "  image_id TEXT NOT NULL REFERENCES images(id),"
    "  instance_type TEXT NOT NULL,"
    "  launch_index INTEGER NOT NULL,"
    "  state INTEGER NOT NULL,"
    "  launch_step INTEGER NOT NULL DEFAULT 0,"
    "  reason TEXT NOT NULL DEFAULT '',"
    "  reason_code TEXT NOT NULL DEFAULT '',"
    "  launched_at INTEGER NOT NULL,"
    "  changed_at INTEGER NOT NULL,"
    "  deadline INTEGER NOT NULL DEFAULT 0,"
    "  disk_path TEXT NOT NULL,"
    "  console_path TEXT NOT NULL);"
    "CREATE INDEX instances_by_reservation ON instances(reservation_id);"
    "CREATE TABLE tags ("
    "  resource_id TEXT NOT NULL,"
    "  key TEXT NOT NULL,"
    "  value TEXT NOT NULL,"
    "  PRIMARY KEY (resource_id, key));"
    "CREATE TABLE audit ("
    "  id INTEGER PRIMARY KEY,"
    "  at INTEGER NOT NULL,"
    "  action TEXT NOT NULL,"
    "  resource_id TEXT NOT NULL DEFAULT '',"
    "  detail TEXT NOT NULL DEFAULT '');",
    /* 2: the HTTP API: access keys, a fuller audit record, instance attributes */
    "CREATE TABLE access_keys ("
    "  id TEXT PRIMARY KEY,"
    "  secret TEXT NOT NULL,"
    "  created_at INTEGER NOT NULL);"
    "ALTER TABLE audit ADD COLUMN principal TEXT NOT NULL DEFAULT '';"
    "ALTER TABLE audit ADD COLUMN result TEXT NOT NULL DEFAULT '';"
    "ALTER TABLE instances ADD COLUMN disable_api_termination INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE instances ADD COLUMN disable_api_stop INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE instances ADD COLUMN shutdown_behavior TEXT NOT NULL DEFAULT 'stop';"
    "ALTER TABLE instances ADD COLUMN user_data TEXT NOT NULL DEFAULT '';",
    /* 3: key pairs */
    "CREATE TABLE key_pairs ("
    "  id TEXT PRIMARY KEY,"
    "  name TEXT NOT NULL UNIQUE,"
    "  type TEXT NOT NULL,"
    "  fingerprint TEXT NOT NULL,"
    "  public_key TEXT NOT NULL,"
    "  created_at INTEGER NOT NULL);"
    "ALTER TABLE instances ADD COLUMN key_name TEXT NOT NULL DEFAULT '';",
    /* 4: root volume size (bytes; 0 = the image's) */
    "ALTER TABLE instances ADD COLUMN root_size INTEGER NOT NULL DEFAULT 0;",
    /* 5: EBS volumes */
    "CREATE TABLE volumes ("
    "  id TEXT PRIMARY KEY,"
    "  size_gib INTEGER NOT NULL,"
    "  type TEXT NOT NULL,"
    "  iops INTEGER NOT NULL,"
    "  throughput INTEGER NOT NULL,"
    "  state TEXT NOT NULL,"
    "  path TEXT NOT NULL,"
    "  client_token TEXT UNIQUE,"
    "  request TEXT NOT NULL DEFAULT '',"
    "  created_at INTEGER NOT NULL,"
    "  instance_id TEXT,"
    "  device TEXT,"
    "  attach_state TEXT,"
    "  attach_time INTEGER);"
    "CREATE UNIQUE INDEX volumes_by_device ON volumes(instance_id, device) WHERE instance_id IS NOT NULL;",
    /* 6: snapshots, and volumes made from them */
    "CREATE TABLE snapshots ("
    "  id TEXT PRIMARY KEY,"
    "  volume_id TEXT NOT NULL,"
    "  size_gib INTEGER NOT NULL,"
    "  state TEXT NOT NULL,"
    "  progress INTEGER NOT NULL DEFAULT 0,"
    "  description TEXT NOT NULL DEFAULT '',"
    "  path TEXT NOT NULL,"
    "  created_at INTEGER NOT NULL);"
    "ALTER TABLE volumes ADD COLUMN snapshot_id TEXT NOT NULL DEFAULT '';",
    /* 7: volume modifications (ModifyVolume, DescribeVolumesModifications) */
    "CREATE TABLE volume_modifications ("
    "  id INTEGER PRIMARY KEY,"
    "  volume_id TEXT NOT NULL,"
    "  state TEXT NOT NULL,"
    "  original_size INTEGER NOT NULL, target_size INTEGER NOT NULL,"
    "  original_type TEXT NOT NULL, target_type TEXT NOT NULL,"
    "  original_iops INTEGER NOT NULL, target_iops INTEGER NOT NULL,"
    "  original_throughput INTEGER NOT NULL, target_throughput INTEGER NOT NULL,"
    "  started_at INTEGER NOT NULL, ended_at INTEGER);",
    /* 8: root disks are EBS volumes */
    "ALTER TABLE volumes ADD COLUMN delete_on_termination INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE volumes ADD COLUMN base_image TEXT NOT NULL DEFAULT '';"
    "ALTER TABLE instances ADD COLUMN root_volume_id TEXT NOT NULL DEFAULT '';",
    /* 9: an image's virtual size, read once instead of at every launch */
    "ALTER TABLE images ADD COLUMN size_bytes INTEGER NOT NULL DEFAULT 0;",
    /* 10: networking: VPCs, subnets, security groups and their rules, network interfaces */
    "CREATE TABLE vpcs ("
    "  id TEXT PRIMARY KEY,"
    "  cidr TEXT NOT NULL,"
    "  is_default INTEGER NOT NULL DEFAULT 0,"
    "  dns_support INTEGER NOT NULL DEFAULT 1,"
    "  dns_hostnames INTEGER NOT NULL DEFAULT 0,"
    "  created_at INTEGER NOT NULL);"
    "CREATE TABLE subnets ("
    "  id TEXT PRIMARY KEY,"
    "  vpc_id TEXT NOT NULL REFERENCES vpcs(id),"
    "  cidr TEXT NOT NULL,"
    "  default_for_az INTEGER NOT NULL DEFAULT 0,"
    "  map_public_ip INTEGER NOT NULL DEFAULT 0,"
    "  created_at INTEGER NOT NULL);"
    "CREATE TABLE security_groups ("
    "  id TEXT PRIMARY KEY,"
    "  vpc_id TEXT NOT NULL REFERENCES vpcs(id),"
    "  name TEXT NOT NULL,"
    "  description TEXT NOT NULL,"
    "  filter_digest TEXT NOT NULL DEFAULT '',"
    "  created_at INTEGER NOT NULL,"
    "  UNIQUE (vpc_id, name));"
    "CREATE TABLE sg_rules ("
    "  id TEXT PRIMARY KEY,"
    "  group_id TEXT NOT NULL REFERENCES security_groups(id) ON DELETE CASCADE,"
    "  egress INTEGER NOT NULL,"
    "  protocol TEXT NOT NULL,"
    "  from_port INTEGER NOT NULL,"
    "  to_port INTEGER NOT NULL,"
    "  cidr TEXT,"
    "  source_group TEXT REFERENCES security_groups(id),"
    "  description TEXT NOT NULL DEFAULT '');"
    "CREATE TABLE network_interfaces ("
    "  id TEXT PRIMARY KEY,"
    "  subnet_id TEXT NOT NULL REFERENCES subnets(id),"
    "  instance_id TEXT,"
    "  mac TEXT NOT NULL UNIQUE,"
    "  ip TEXT NOT NULL,"
    "  created_at INTEGER NOT NULL,"
    "  UNIQUE (subnet_id, ip));"
    "CREATE INDEX network_interfaces_by_instance ON network_interfaces(instance_id);"
    "CREATE TABLE eni_groups ("
    "  eni_id TEXT NOT NULL REFERENCES network_interfaces(id) ON DELETE CASCADE,"
    "  group_id TEXT NOT NULL REFERENCES security_groups(id),"
    "  PRIMARY KEY (eni_id, group_id));",
    /* 11: the snapshot behind an AMI made by CreateImage (its file is the AMI's base) */
    "ALTER TABLE snapshots ADD COLUMN image_id TEXT NOT NULL DEFAULT '';",
    /* 12: what a pending snapshot's or image's job works from (vmmgr/core/job.h): a snapshot's
     * source file (CopySnapshot; '' for its volume), an image's instance and NoReboot */
    "ALTER TABLE snapshots ADD COLUMN source TEXT NOT NULL DEFAULT '';"
    "ALTER TABLE images ADD COLUMN source_instance TEXT NOT NULL DEFAULT '';"
    "ALTER TABLE images ADD COLUMN no_reboot INTEGER NOT NULL DEFAULT 0;"
    /* when a detaching volume's guest was last asked to let it go */
    "ALTER TABLE volumes ADD COLUMN unplug_at INTEGER NOT NULL DEFAULT 0;",
    /* 13: CloudWatch metrics (metrics/): a metric is its namespace, name and exact dimension set
     * (dims: sorted, length-prefixed "N:nameN:value…"); its points are statistic sets */
    "CREATE TABLE metrics ("
    "  id INTEGER PRIMARY KEY,"
    "  namespace TEXT NOT NULL,"
    "  name TEXT NOT NULL,"
    "  dims TEXT NOT NULL,"
    "  last_ts INTEGER NOT NULL DEFAULT 0,"
    "  UNIQUE (namespace, name, dims));"
    "CREATE TABLE metric_data ("
    "  metric_id INTEGER NOT NULL REFERENCES metrics(id) ON DELETE CASCADE,"
    "  ts INTEGER NOT NULL,"
    "  resolution INTEGER NOT NULL,"
    "  unit TEXT NOT NULL,"
    "  count REAL NOT NULL,"
    "  sum REAL NOT NULL,"
    "  min REAL NOT NULL,"
    "  max REAL NOT NULL);"
    "CREATE INDEX metric_data_by_metric ON metric_data(metric_id, ts);"
    "CREATE INDEX metric_data_by_time ON metric_data(ts);",
    /* 14: a point's span: 0 as put (or sampled), else the seconds of the aggregate (60, 300, 3600)
     * that older points were rolled into (metrics_maintain) */
    "ALTER TABLE metric_data ADD COLUMN span INTEGER NOT NULL DEFAULT 0;",
    /* 15: CloudWatch's metric alarms (metrics/alarms.c): configuration, state, the end of the last
     * period evaluated; their history outlives them */
    "CREATE TABLE alarms ("
    "  name TEXT PRIMARY KEY,"
    "  arn TEXT NOT NULL,"
    "  description TEXT,"
    "  actions_enabled INTEGER NOT NULL,"
    "  ok_actions TEXT NOT NULL,"
    "  alarm_actions TEXT NOT NULL,"
    "  insufficient_actions TEXT NOT NULL,"
    "  namespace TEXT NOT NULL,"
    "  metric_name TEXT NOT NULL,"
    "  dims TEXT NOT NULL,"
    "  statistic TEXT NOT NULL,"
    "  unit TEXT,"
    "  period INTEGER NOT NULL,"
    "  evaluation_periods INTEGER NOT NULL,"
    "  datapoints_to_alarm INTEGER NOT NULL,"
    "  threshold REAL NOT NULL,"
    "  comparison TEXT NOT NULL,"
    "  treat_missing TEXT NOT NULL,"
    "  state INTEGER NOT NULL,"
    "  reason TEXT NOT NULL,"
    "  reason_data TEXT NOT NULL,"
    "  state_updated INTEGER NOT NULL,"
    "  config_updated INTEGER NOT NULL,"
    "  transitioned INTEGER NOT NULL,"
    "  evaluated_to INTEGER NOT NULL DEFAULT 0);"
    "CREATE TABLE alarm_history ("
    "  id INTEGER PRIMARY KEY,"
    "  name TEXT NOT NULL,"
    "  ts INTEGER NOT NULL,"
    "  type TEXT NOT NULL,"
    "  summary TEXT NOT NULL,"
    "  data TEXT NOT NULL);"
    "CREATE INDEX alarm_history_by_name ON alarm_history(name, ts);",
    /* 16: a metric's newest point is read from its points (ListMetrics), not kept beside them */
    "ALTER TABLE metrics DROP COLUMN last_ts;",
    /* 17: EC2 launch templates (their versions' data kept as the request's parameters) and Auto
     * Scaling (autoscaling/): groups, their instances, the activities that the controller records
     * before it acts (each launch's activity id is its RunInstances client token) and group tags */
    "CREATE TABLE launch_templates ("
    "  id TEXT PRIMARY KEY,"
    "  name TEXT NOT NULL UNIQUE,"
    "  default_version INTEGER NOT NULL,"
    "  latest_version INTEGER NOT NULL,"
    "  created_at INTEGER NOT NULL);"
    "CREATE TABLE launch_template_versions ("
    "  template_id TEXT NOT NULL REFERENCES launch_templates(id) ON DELETE CASCADE,"
    "  version INTEGER NOT NULL,"
    "  description TEXT,"
    "  created_at INTEGER NOT NULL,"
    "  PRIMARY KEY (template_id, version));"
    "CREATE TABLE launch_template_data ("
    "  template_id TEXT NOT NULL,"
    "  version INTEGER NOT NULL,"
    "  key TEXT NOT NULL,"
    "  value TEXT NOT NULL,"
    "  PRIMARY KEY (template_id, version, key),"
    "  FOREIGN KEY (template_id, version) REFERENCES launch_template_versions(template_id, version)"
    "    ON DELETE CASCADE);"
    "CREATE TABLE asg_groups ("
    "  name TEXT PRIMARY KEY,"
    "  arn TEXT NOT NULL,"
    "  template_id TEXT NOT NULL,"
    "  template_version TEXT NOT NULL,"
    "  min_size INTEGER NOT NULL,"
    "  max_size INTEGER NOT NULL,"
    "  desired INTEGER NOT NULL,"
    "  default_cooldown INTEGER NOT NULL,"
    "  health_check_type TEXT NOT NULL,"
    "  grace_period INTEGER NOT NULL,"
    "  subnets TEXT NOT NULL,"
    "  termination_policies TEXT NOT NULL,"
    "  protect_new INTEGER NOT NULL,"
    "  deleting INTEGER NOT NULL DEFAULT 0,"
    "  last_cause TEXT NOT NULL DEFAULT '',"
    "  cooldown_until INTEGER NOT NULL DEFAULT 0,"
    "  created_at INTEGER NOT NULL);"
    "CREATE TABLE asg_instances ("
    "  instance_id TEXT PRIMARY KEY,"
    "  group_name TEXT NOT NULL REFERENCES asg_groups(name) ON DELETE CASCADE,"
    "  lifecycle TEXT NOT NULL,"
    "  health TEXT NOT NULL,"
    "  subnet_id TEXT NOT NULL,"
    "  template_version INTEGER NOT NULL,"
    "  protected INTEGER NOT NULL,"
    "  activity_id TEXT NOT NULL,"
    "  added_at INTEGER NOT NULL);"
    "CREATE INDEX asg_instances_by_group ON asg_instances(group_name);"
    "CREATE TABLE asg_activities ("
    "  id TEXT PRIMARY KEY,"
    "  seq INTEGER NOT NULL,"
    "  group_name TEXT NOT NULL,"
    "  kind TEXT NOT NULL,"
    "  subnet_id TEXT NOT NULL DEFAULT '',"
    "  instance_id TEXT NOT NULL DEFAULT '',"
    "  description TEXT NOT NULL,"
    "  cause TEXT NOT NULL,"
    "  start_time INTEGER NOT NULL,"
    "  end_time INTEGER NOT NULL DEFAULT 0,"
    "  status TEXT NOT NULL,"
    "  status_message TEXT NOT NULL DEFAULT '',"
    "  progress INTEGER NOT NULL DEFAULT 0);"
    "CREATE INDEX asg_activities_by_group ON asg_activities(group_name, seq);"
    "CREATE TABLE asg_tags ("
    "  group_name TEXT NOT NULL REFERENCES asg_groups(name) ON DELETE CASCADE,"
    "  key TEXT NOT NULL,"
    "  value TEXT NOT NULL,"
    "  propagate INTEGER NOT NULL,"
    "  PRIMARY KEY (group_name, key));"
    "CREATE TABLE asg_policies ("
    "  arn TEXT PRIMARY KEY,"
    "  group_name TEXT NOT NULL REFERENCES asg_groups(name) ON DELETE CASCADE,"
    "  name TEXT NOT NULL,"
    "  type TEXT NOT NULL,"
    "  adjustment_type TEXT NOT NULL DEFAULT '',"
    "  scaling_adjustment INTEGER NOT NULL DEFAULT 0,"
    "  min_adjustment_magnitude INTEGER NOT NULL DEFAULT 0,"
    "  cooldown INTEGER NOT NULL DEFAULT -1,"
    "  steps TEXT NOT NULL DEFAULT '',"
    "  metric_aggregation TEXT NOT NULL DEFAULT '',"
    "  warmup INTEGER NOT NULL DEFAULT -1,"
    "  tt_metric TEXT NOT NULL DEFAULT '',"
    "  tt_target REAL NOT NULL DEFAULT 0,"
    "  tt_disable_scale_in INTEGER NOT NULL DEFAULT 0,"
    "  tt_spec TEXT NOT NULL DEFAULT '',"
    "  enabled INTEGER NOT NULL DEFAULT 1,"
    "  last_executed INTEGER NOT NULL DEFAULT 0,"
    "  UNIQUE (group_name, name));"
    "CREATE TABLE asg_policy_alarms ("
    "  policy_arn TEXT NOT NULL REFERENCES asg_policies(arn) ON DELETE CASCADE,"
    "  alarm_name TEXT NOT NULL,"
    "  alarm_arn TEXT NOT NULL,"
    "  PRIMARY KEY (policy_arn, alarm_name));"
    "CREATE TABLE asg_warm_pools ("
    "  group_name TEXT PRIMARY KEY REFERENCES asg_groups(name) ON DELETE CASCADE,"
    "  min_size INTEGER NOT NULL,"
    "  max_prepared INTEGER NOT NULL,"
    "  pool_state TEXT NOT NULL,"
    "  reuse_on_scale_in INTEGER NOT NULL,"
    "  deleting INTEGER NOT NULL DEFAULT 0);"
    "CREATE TABLE asg_suspended ("
    "  group_name TEXT NOT NULL REFERENCES asg_groups(name) ON DELETE CASCADE,"
    "  process TEXT NOT NULL,"
    "  reason TEXT NOT NULL,"
    "  PRIMARY KEY (group_name, process));",
    /* 18: Auto Scaling's lifecycle hooks and the waits they hold, instance refreshes (the instances
     * each is to replace), scheduled actions (their next run) */
    "CREATE TABLE asg_lifecycle_hooks ("
    "  group_name TEXT NOT NULL REFERENCES asg_groups(name) ON DELETE CASCADE,"
    "  name TEXT NOT NULL,"
    "  transition TEXT NOT NULL,"
    "  heartbeat_timeout INTEGER NOT NULL,"
    "  default_result TEXT NOT NULL,"
    "  metadata TEXT NOT NULL DEFAULT '',"
    "  target_arn TEXT NOT NULL DEFAULT '',"
    "  role_arn TEXT NOT NULL DEFAULT '',"
    "  PRIMARY KEY (group_name, name));"
    "CREATE TABLE asg_lifecycle_actions ("
    "  instance_id TEXT NOT NULL,"
    "  hook_name TEXT NOT NULL,"
    "  group_name TEXT NOT NULL REFERENCES asg_groups(name) ON DELETE CASCADE,"
    "  token TEXT NOT NULL UNIQUE,"
    "  transition TEXT NOT NULL,"
    "  started_at INTEGER NOT NULL,"
    "  deadline INTEGER NOT NULL,"
    "  global_deadline INTEGER NOT NULL,"
    "  default_result TEXT NOT NULL,"
    "  result TEXT NOT NULL DEFAULT '',"
    "  PRIMARY KEY (instance_id, hook_name));"
    "CREATE TABLE asg_refreshes ("
    "  id TEXT PRIMARY KEY,"
    "  seq INTEGER NOT NULL,"
    "  group_name TEXT NOT NULL REFERENCES asg_groups(name) ON DELETE CASCADE,"
    "  status TEXT NOT NULL,"
    "  status_reason TEXT NOT NULL DEFAULT '',"
    "  start_time INTEGER NOT NULL,"
    "  end_time INTEGER NOT NULL DEFAULT 0,"
    "  min_healthy INTEGER NOT NULL,"
    "  warmup INTEGER NOT NULL,"
    "  skip_matching INTEGER NOT NULL,"
    "  to_update INTEGER NOT NULL DEFAULT -1,"
    "  template_id TEXT NOT NULL DEFAULT '',"
    "  template_version TEXT NOT NULL DEFAULT '',"
    "  batch_done_at INTEGER NOT NULL DEFAULT 0);"
    "CREATE TABLE asg_refresh_instances ("
    "  refresh_id TEXT NOT NULL REFERENCES asg_refreshes(id) ON DELETE CASCADE,"
    "  instance_id TEXT NOT NULL,"
    "  PRIMARY KEY (refresh_id, instance_id));"
    "CREATE TABLE asg_scheduled ("
    "  group_name TEXT NOT NULL REFERENCES asg_groups(name) ON DELETE CASCADE,"
    "  name TEXT NOT NULL,"
    "  arn TEXT NOT NULL,"
    "  start_time INTEGER NOT NULL DEFAULT 0,"
    "  end_time INTEGER NOT NULL DEFAULT 0,"
    "  recurrence TEXT NOT NULL DEFAULT '',"
    "  time_zone TEXT NOT NULL DEFAULT '',"
    "  min_size INTEGER NOT NULL DEFAULT -1,"
    "  max_size INTEGER NOT NULL DEFAULT -1,"
    "  desired INTEGER NOT NULL DEFAULT -1,"
    "  next_run INTEGER NOT NULL DEFAULT 0,"
    "  PRIMARY KEY (group_name, name));",
    /* 19: availability zones: a subnet's and a volume's zone (those made before were in the one
     * zone a state dir had) */
    "ALTER TABLE subnets ADD COLUMN az TEXT NOT NULL DEFAULT '';"
    "ALTER TABLE volumes ADD COLUMN az TEXT NOT NULL DEFAULT '';"
    "UPDATE subnets SET az = coalesce((SELECT value FROM config WHERE key = 'availability_zone'), 'us-east-1a');"
    "UPDATE volumes SET az = coalesce((SELECT value FROM config WHERE key = 'availability_zone'), 'us-east-1a');",
    /* 20: Elastic Load Balancing (elb/): load balancers with an interface in each of their subnets
     * (requester-managed, with the load balancer's DNS name), target groups, targets, listeners and
     * their rules; tags by ARN */
    "ALTER TABLE network_interfaces ADD COLUMN description TEXT NOT NULL DEFAULT '';"
    "ALTER TABLE network_interfaces ADD COLUMN requester TEXT NOT NULL DEFAULT '';"
    "ALTER TABLE network_interfaces ADD COLUMN dns_name TEXT NOT NULL DEFAULT '';"
    "CREATE TABLE elb_load_balancers ("
    "  id TEXT PRIMARY KEY,"
    "  name TEXT NOT NULL UNIQUE,"
    "  type TEXT NOT NULL,"
    "  scheme TEXT NOT NULL,"
    "  vpc_id TEXT NOT NULL REFERENCES vpcs(id),"
    "  dns_name TEXT NOT NULL,"
    "  state TEXT NOT NULL,"
    "  deleting INTEGER NOT NULL DEFAULT 0,"
    "  created_at INTEGER NOT NULL);"
    "CREATE TABLE elb_lb_subnets ("
    "  lb_id TEXT NOT NULL REFERENCES elb_load_balancers(id) ON DELETE CASCADE,"
    "  subnet_id TEXT NOT NULL REFERENCES subnets(id),"
    "  eni_id TEXT NOT NULL,"
    "  PRIMARY KEY (lb_id, subnet_id));"
    "CREATE TABLE elb_lb_groups ("
    "  lb_id TEXT NOT NULL REFERENCES elb_load_balancers(id) ON DELETE CASCADE,"
    "  group_id TEXT NOT NULL REFERENCES security_groups(id),"
    "  PRIMARY KEY (lb_id, group_id));"
    "CREATE TABLE elb_attributes ("
    "  owner TEXT NOT NULL,"
    "  key TEXT NOT NULL,"
    "  value TEXT NOT NULL,"
    "  PRIMARY KEY (owner, key));"
    "CREATE TABLE elb_target_groups ("
    "  id TEXT PRIMARY KEY,"
    "  name TEXT NOT NULL UNIQUE,"
    "  protocol TEXT NOT NULL,"
    "  port INTEGER NOT NULL,"
    "  vpc_id TEXT NOT NULL REFERENCES vpcs(id),"
    "  target_type TEXT NOT NULL,"
    "  hc_protocol TEXT NOT NULL,"
    "  hc_port TEXT NOT NULL,"
    "  hc_path TEXT NOT NULL,"
    "  hc_interval INTEGER NOT NULL,"
    "  hc_timeout INTEGER NOT NULL,"
    "  healthy INTEGER NOT NULL,"
    "  unhealthy INTEGER NOT NULL,"
    "  matcher TEXT NOT NULL,"
    "  created_at INTEGER NOT NULL);"
    "CREATE TABLE elb_targets ("
    "  tg_id TEXT NOT NULL REFERENCES elb_target_groups(id) ON DELETE CASCADE,"
    "  target TEXT NOT NULL,"
    "  port INTEGER NOT NULL,"
    "  ip TEXT NOT NULL,"
    "  drain_until INTEGER NOT NULL DEFAULT 0,"
    "  health TEXT NOT NULL DEFAULT 'initial',"
    "  reason TEXT NOT NULL DEFAULT 'Elb.RegistrationInProgress',"
    "  created_at INTEGER NOT NULL,"
    "  asg TEXT NOT NULL DEFAULT '',"
    "  PRIMARY KEY (tg_id, target, port));"
    "CREATE TABLE elb_listeners ("
    "  id TEXT PRIMARY KEY,"
    "  lb_id TEXT NOT NULL REFERENCES elb_load_balancers(id) ON DELETE CASCADE,"
    "  protocol TEXT NOT NULL,"
    "  port INTEGER NOT NULL,"
    "  action TEXT NOT NULL,"
    "  tg_id TEXT REFERENCES elb_target_groups(id),"
    "  fixed_status TEXT NOT NULL DEFAULT '',"
    "  fixed_type TEXT NOT NULL DEFAULT '',"
    "  fixed_body TEXT NOT NULL DEFAULT '',"
    "  created_at INTEGER NOT NULL,"
    "  UNIQUE (lb_id, port));"
    "CREATE TABLE elb_rules ("
    "  id TEXT PRIMARY KEY,"
    "  listener_id TEXT NOT NULL REFERENCES elb_listeners(id) ON DELETE CASCADE,"
    "  priority INTEGER NOT NULL,"
    "  paths TEXT NOT NULL DEFAULT '',"
    "  hosts TEXT NOT NULL DEFAULT '',"
    "  action TEXT NOT NULL,"
    "  tg_id TEXT REFERENCES elb_target_groups(id),"
    "  fixed_status TEXT NOT NULL DEFAULT '',"
    "  fixed_type TEXT NOT NULL DEFAULT '',"
    "  fixed_body TEXT NOT NULL DEFAULT '',"
    "  UNIQUE (listener_id, priority));"
    "CREATE TABLE asg_target_groups ("
    "  group_name TEXT NOT NULL REFERENCES asg_groups(name) ON DELETE CASCADE,"
    "  tg_id TEXT NOT NULL REFERENCES elb_target_groups(id),"
    "  PRIMARY KEY (group_name, tg_id));"
    "CREATE TABLE elb_tags ("
    "  arn TEXT NOT NULL,"
    "  key TEXT NOT NULL,"
    "  value TEXT NOT NULL,"
    "  PRIMARY KEY (arn, key));",
    /* 21: the instance metadata service (imds/): each instance's MetadataOptions */
    "ALTER TABLE instances ADD COLUMN md_tokens TEXT NOT NULL DEFAULT 'optional';"
    "ALTER TABLE instances ADD COLUMN md_endpoint TEXT NOT NULL DEFAULT 'enabled';"
    "ALTER TABLE instances ADD COLUMN md_hop_limit INTEGER NOT NULL DEFAULT 1;"
    "ALTER TABLE instances ADD COLUMN md_tags TEXT NOT NULL DEFAULT 'disabled';",
    /* 22: internet gateways and route tables (net/igw.c, net/route_table.c); every VPC has a main
     * route table (made here for the VPCs there are) */
    "CREATE TABLE internet_gateways ("
    "  id TEXT PRIMARY KEY,"
    "  vpc_id TEXT REFERENCES vpcs(id),"
    "  created_at INTEGER NOT NULL);"
    "CREATE TABLE route_tables ("
    "  id TEXT PRIMARY KEY,"
    "  vpc_id TEXT NOT NULL REFERENCES vpcs(id),"
    "  main INTEGER NOT NULL DEFAULT 0,"
    "  main_assoc TEXT NOT NULL DEFAULT '',"
    "  created_at INTEGER NOT NULL);"
    "CREATE TABLE routes ("
    "  route_table_id TEXT NOT NULL REFERENCES route_tables(id) ON DELETE CASCADE,"
    "  cidr TEXT NOT NULL,"
    "  target TEXT NOT NULL,"
    "  PRIMARY KEY (route_table_id, cidr));"
    "CREATE TABLE rt_associations ("
    "  id TEXT PRIMARY KEY,"
    "  route_table_id TEXT NOT NULL REFERENCES route_tables(id),"
    "  subnet_id TEXT NOT NULL UNIQUE REFERENCES subnets(id));"
    "INSERT INTO route_tables (id, vpc_id, main, main_assoc, created_at) SELECT 'rtb-' || "
    "  substr(lower(hex(randomblob(9))), 1, 17), id, 1, 'rtbassoc-' || substr(lower(hex(randomblob(9))), 1, 17), "
    "  created_at FROM vpcs;",
    /* 23: Elastic IPs (net/eip.c): an address of the pool, associated with an interface or not */
    "CREATE TABLE addresses ("
    "  allocation_id TEXT PRIMARY KEY,"
    "  public_ip TEXT NOT NULL UNIQUE,"
    "  association_id TEXT NOT NULL DEFAULT '',"
    "  eni_id TEXT NOT NULL DEFAULT '',"
    "  created_at INTEGER NOT NULL);",
    /* 24: NAT gateways (net/natgw.c); a deleted one stays an hour for describe */
    "CREATE TABLE nat_gateways ("
    "  id TEXT PRIMARY KEY,"
    "  subnet_id TEXT NOT NULL,"
    "  vpc_id TEXT NOT NULL,"
    "  allocation_id TEXT NOT NULL,"
    "  eni_id TEXT NOT NULL,"
    "  private_ip TEXT NOT NULL,"
    "  public_ip TEXT NOT NULL,"
    "  state TEXT NOT NULL,"
    "  client_token TEXT NOT NULL DEFAULT '',"
    "  created_at INTEGER NOT NULL,"
    "  deleted_at INTEGER NOT NULL DEFAULT 0);",
    /* 25: public addresses given at launch (MapPublicIpOnLaunch, AssociatePublicIpAddress): from the
     * same pool, their instance's, not Elastic IPs */
    "ALTER TABLE addresses ADD COLUMN auto INTEGER NOT NULL DEFAULT 0;",
    /* 26: CloudWatch alarms' tags (TagResource, PutMetricAlarm's Tags), which go with their alarm; the
     * EC2 actions (stop, terminate, reboot) a transition asked for and the daemon has not yet run */
    "CREATE TABLE alarm_tags ("
    "  alarm_name TEXT NOT NULL REFERENCES alarms(name) ON DELETE CASCADE,"
    "  key TEXT NOT NULL,"
    "  value TEXT NOT NULL,"
    "  PRIMARY KEY (alarm_name, key));"
    "CREATE TABLE alarm_ec2_actions ("
    "  id INTEGER PRIMARY KEY,"
    "  alarm_name TEXT NOT NULL,"
    "  arn TEXT NOT NULL,"
    "  instance_id TEXT NOT NULL,"
    "  ts INTEGER NOT NULL);",
    /* 27: ELBv2 weighted forwarding (ForwardConfig): every target group of a forward action with its
     * weight, of a listener or of a rule (tg_id keeps the first); redirect actions' RedirectConfig */
    "CREATE TABLE elb_forwards ("
    "  listener_id TEXT REFERENCES elb_listeners(id) ON DELETE CASCADE,"
    "  rule_id TEXT REFERENCES elb_rules(id) ON DELETE CASCADE,"
    "  position INTEGER NOT NULL,"
    "  tg_id TEXT NOT NULL REFERENCES elb_target_groups(id),"
    "  weight INTEGER NOT NULL,"
    "  CHECK ((listener_id IS NULL) != (rule_id IS NULL)));"
    "CREATE INDEX elb_forwards_listener ON elb_forwards(listener_id);"
    "CREATE INDEX elb_forwards_rule ON elb_forwards(rule_id);"
    "CREATE INDEX elb_forwards_tg ON elb_forwards(tg_id);"
    "INSERT INTO elb_forwards (listener_id, position, tg_id, weight) "
    "  SELECT id, 0, tg_id, 1 FROM elb_listeners WHERE action = 'forward' AND tg_id IS NOT NULL;"
    "INSERT INTO elb_forwards (rule_id, position, tg_id, weight) "
    "  SELECT id, 0, tg_id, 1 FROM elb_rules WHERE action = 'forward' AND tg_id IS NOT NULL;"
    "ALTER TABLE elb_listeners ADD COLUMN redirect TEXT NOT NULL DEFAULT '';"
    "ALTER TABLE elb_rules ADD COLUMN redirect TEXT NOT NULL DEFAULT '';",
    /* 28: imported certificates (ACM, acm/), which HTTPS listeners serve: the default one, and more
     * chosen by the name the client asks for (SNI; AddListenerCertificates) */
    "CREATE TABLE acm_certificates ("
    "  id TEXT PRIMARY KEY,"
    "  domain TEXT NOT NULL,"
    "  sans TEXT NOT NULL,"
    "  subject TEXT NOT NULL,"
    "  issuer TEXT NOT NULL,"
    "  serial TEXT NOT NULL,"
    "  key_algorithm TEXT NOT NULL,"
    "  signature_algorithm TEXT NOT NULL,"
    "  not_before INTEGER NOT NULL,"
    "  not_after INTEGER NOT NULL,"
    "  imported_at INTEGER NOT NULL,"
    "  created_at INTEGER NOT NULL,"
    "  cert_pem TEXT NOT NULL,"
    "  chain_pem TEXT NOT NULL,"
    "  key_pem TEXT NOT NULL);"
    "CREATE TABLE acm_tags ("
    "  cert_id TEXT NOT NULL REFERENCES acm_certificates(id) ON DELETE CASCADE,"
    "  key TEXT NOT NULL,"
    "  value TEXT NOT NULL,"
    "  PRIMARY KEY (cert_id, key));"
    "ALTER TABLE elb_listeners ADD COLUMN certificate_id TEXT REFERENCES acm_certificates(id);"
    "ALTER TABLE elb_listeners ADD COLUMN ssl_policy TEXT NOT NULL DEFAULT '';"
    "CREATE TABLE elb_listener_certs ("
    "  listener_id TEXT NOT NULL REFERENCES elb_listeners(id) ON DELETE CASCADE,"
    "  cert_id TEXT NOT NULL REFERENCES acm_certificates(id),"
    "  added_at INTEGER NOT NULL,"
    "  PRIMARY KEY (listener_id, cert_id));",
    /* 29: a weighted forward's target group stickiness (TargetGroupStickinessConfig): its duration on
     * each of the action's rows, 0 when off */
    "ALTER TABLE elb_forwards ADD COLUMN stick_seconds INTEGER NOT NULL DEFAULT 0;",
    /* 30: a VPC whose block overlaps another's has a routing domain of its own (a router namespace,
     * net/router.c) */
    "ALTER TABLE vpcs ADD COLUMN routed INTEGER NOT NULL DEFAULT 0;",
};

int
vm_db_error(sqlite3 *db, const char *what, vm_error *err)
{
    int code = sqlite3_errcode(db);
    return vm_error_set(err, code == SQLITE_BUSY || code == SQLITE_LOCKED ? VM_ERR_UNAVAILABLE : VM_ERR_INTERNAL,
                        "state store: %s: %s", what, sqlite3_errmsg(db));
}

int
vm_db_exec(sqlite3 *db, const char *sql, vm_error *err)
{
    if (sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK)
        return vm_db_error(db, "exec", err);
    return 0;
}

int
vm_db_prepare(sqlite3 *db, const char *sql, sqlite3_stmt **ret, vm_error *err)
{
    if (sqlite3_prepare_v2(db, sql, -1, ret, NULL) != SQLITE_OK)
        return vm_db_error(db, "prepare", err);
    return 0;
}

static int
db_bindv(sqlite3 *db, sqlite3_stmt *st, const char *fmt, va_list ap, vm_error *err)
{
    int n = sqlite3_bind_parameter_count(st);
    if ((int)strlen(fmt) != n)
        return vm_error_set(err, VM_ERR_INTERNAL, "state store: %d values for the %d parameters of \"%s\"",
                            (int)strlen(fmt), n, sqlite3_sql(st));
    for (int i = 0; i < n; i++) {
        int rc;
        switch (fmt[i]) {
        case 't': {
            const char *v = va_arg(ap, const char *);
            rc = v ? sqlite3_bind_text(st, i + 1, v, -1, SQLITE_TRANSIENT) : sqlite3_bind_null(st, i + 1);
            break;
        }
        case 'i':
            rc = sqlite3_bind_int64(st, i + 1, va_arg(ap, long long));
            break;
        case 'd':
            rc = sqlite3_bind_double(st, i + 1, va_arg(ap, double));
            break;
        default:
            return vm_error_set(err, VM_ERR_INTERNAL, "state store: no bind type '%c'", fmt[i]);
        }
        if (rc != SQLITE_OK)
            return vm_db_error(db, "bind", err);
    }
    return 0;
}

int
vm_db_stmt(sqlite3 *db, sqlite3_stmt **ret, vm_error *err, const char *sql, const char *fmt, ...)
{
    sqlite3_stmt *st = NULL;
    if (vm_db_prepare(db, sql, &st, err) < 0)
        return -1;
    va_list ap;
    va_start(ap, fmt);
    int rc = db_bindv(db, st, fmt, ap, err);
    va_end(ap);
    if (rc < 0) {
        sqlite3_finalize(st);
        return -1;
    }
    *ret = st;
    return 0;
}

int
vm_db_bind(sqlite3_stmt *st, vm_error *err, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = db_bindv(sqlite3_db_handle(st), st, fmt, ap, err);
    va_end(ap);
    return rc;
}

int
vm_db_bind_texts(sqlite3_stmt *st, vm_error *err, const char *const *v, size_t n)
{
    sqlite3 *db = sqlite3_db_handle(st);
    if ((int)n != sqlite3_bind_parameter_count(st))
        return vm_error_set(err, VM_ERR_INTERNAL, "state store: %zu values for the %d parameters of \"%s\"", n,
                            sqlite3_bind_parameter_count(st), sqlite3_sql(st));
    for (size_t i = 0; i < n; i++)
        if (sqlite3_bind_text(st, (int)i + 1, v[i], -1, SQLITE_TRANSIENT) != SQLITE_OK)
            return vm_db_error(db, "bind", err);
    return 0;
}

int
vm_db_run(sqlite3 *db, vm_error *err, const char *sql, const char *fmt, ...)
{
    _cleanup_stmt_ sqlite3_stmt *st = NULL;
    if (vm_db_prepare(db, sql, &st, err) < 0)
        return -1;
    va_list ap;
    va_start(ap, fmt);
    int rc = db_bindv(db, st, fmt, ap, err);
    va_end(ap);
    if (rc < 0)
        return -1;
    if (sqlite3_step(st) != SQLITE_DONE)
        return vm_db_error(db, "write", err);
    return sqlite3_changes(db);
}

int
vm_db_begin(sqlite3 *db, vm_error *err)
{
    return vm_db_exec(db, "BEGIN IMMEDIATE", err);
}

int
vm_db_commit(sqlite3 *db, vm_error *err)
{
    if (vm_db_exec(db, "COMMIT", err) < 0) {
        vm_db_rollback(db);
        return -1;
    }
    return 0;
}

void
vm_db_rollback(sqlite3 *db)
{
    if (!sqlite3_get_autocommit(db))
        sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
}

const char *
vm_db_text(sqlite3_stmt *st, int col)
{
    const unsigned char *t = sqlite3_column_text(st, col);
    return t ? (const char *)t : "";
}

int
vm_db_schema_version(sqlite3 *db)
{
    _cleanup_stmt_ sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL) != SQLITE_OK || sqlite3_step(st) != SQLITE_ROW)
        return -1;
    return sqlite3_column_int(st, 0);
}

static int
migrate(sqlite3 *db, vm_error *err)
{
    int target = (int)(sizeof(migrations) / sizeof(migrations[0]));
    if (vm_db_begin(db, err) < 0)
        return -1;
    int v = vm_db_schema_version(db);
    if (v > target) {
        vm_db_rollback(db);
        return vm_error_set(err, VM_ERR_INTERNAL,
                            "the state store was written by a newer vmmgr (schema version %d; this one, " PACKAGE_VERSION
                            ", knows up to %d): run the newer vmmgr, or give --state-dir another directory; the "
                            "store is left as it is",
                            v, target);
    }
    if (v < 0) {
        vm_db_rollback(db);
        return vm_error_set(err, VM_ERR_INTERNAL, "cannot read the state store's schema version: %s",
                            sqlite3_errmsg(db));
    }
    for (; v < target; v++) {
        char pragma[64];
        snprintf(pragma, sizeof(pragma), "PRAGMA user_version = %d", v + 1);
        if (vm_db_exec(db, migrations[v], err) < 0 || vm_db_exec(db, pragma, err) < 0) {
            vm_db_rollback(db);
            return -1;
        }
    }
    return vm_db_commit(db, err);
}

sqlite3 *
vm_db_open(const char *path, vm_error *err)
{
    sqlite3 *db = NULL;
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX, NULL) !=
        SQLITE_OK) {
        vm_error_set(err, VM_ERR_INTERNAL, "cannot open state store '%s': %s", path,
                     db ? sqlite3_errmsg(db) : "out of memory");
        sqlite3_close(db);
        return NULL;
    }
    sqlite3_busy_timeout(db, 10000);
    if (vm_db_exec(db, "PRAGMA journal_mode = WAL", err) < 0 || vm_db_exec(db, "PRAGMA synchronous = FULL", err) < 0 ||
        vm_db_exec(db, "PRAGMA foreign_keys = ON", err) < 0 || migrate(db, err) < 0) {
        sqlite3_close(db);
        return NULL;
    }
    return db;
}

void
vm_db_close(sqlite3 *db)
{
    sqlite3_close(db);
}
