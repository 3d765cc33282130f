//! `Debug` for the types that carry a secret input (`nodeGroups[].userData`): the value is shown as
//! `[redacted]`, so a `{:?}` in a log line, a panic message or a test failure never prints it. The
//! impls destructure every field, so a new field fails to compile here until it is listed (and
//! decided: plain or redacted). The provider config's own impls are in `model/config.rs`.

use std::fmt;

use crate::model::NodeGroup;
use crate::plan::LaunchTemplateAction;

/// `Some("[redacted]")` for a secret that is set, `None` otherwise.
fn redact(v: &Option<String>) -> Option<&'static str> {
    v.as_ref().map(|_| "[redacted]")
}

impl fmt::Debug for NodeGroup {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let NodeGroup {
            name,
            instance_types,
            capacity_type,
            min_size,
            desired_size,
            max_size,
            ami_family,
            ami_id,
            disk_size_gib,
            labels,
            taints,
            imds_hop_limit,
            user_data,
            update_config,
            node_repair,
            accelerator,
            release_version,
        } = self;
        f.debug_struct("NodeGroup")
            .field("name", name)
            .field("instance_types", instance_types)
            .field("capacity_type", capacity_type)
            .field("min_size", min_size)
            .field("desired_size", desired_size)
            .field("max_size", max_size)
            .field("ami_family", ami_family)
            .field("ami_id", ami_id)
            .field("disk_size_gib", disk_size_gib)
            .field("labels", labels)
            .field("taints", taints)
            .field("imds_hop_limit", imds_hop_limit)
            .field("user_data", &redact(user_data))
            .field("update_config", update_config)
            .field("node_repair", node_repair)
            .field("accelerator", accelerator)
            .field("release_version", release_version)
            .finish()
    }
}

impl fmt::Debug for LaunchTemplateAction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let LaunchTemplateAction { name, hop_limit, disk_size_gib, ami_id, user_data, ami_family } = self;
        f.debug_struct("LaunchTemplateAction")
            .field("name", name)
            .field("hop_limit", hop_limit)
            .field("disk_size_gib", disk_size_gib)
            .field("ami_id", ami_id)
            .field("user_data", &redact(user_data))
            .field("ami_family", ami_family)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use crate::model::{ClusterArgs, NodeGroup};

    const SECRET: &str = "K8S_BOOTSTRAP_TOKEN=abcdef.0123456789abcdef";

    fn args() -> ClusterArgs {
        ClusterArgs {
            kubernetes_version: Some("1.34".into()),
            node_groups: Some(vec![NodeGroup {
                name: "general".into(),
                instance_types: vec!["m7g.large".into()],
                user_data: Some(format!("#!/bin/bash\nexport {SECRET}\n")),
                ..Default::default()
            }]),
            ..Default::default()
        }
    }

    #[test]
    fn debug_of_the_cluster_inputs_never_shows_user_data() {
        let a = args();
        let text = format!("{a:?} {a:#?}");
        assert!(!text.contains("abcdef.0123456789abcdef"), "userData in {text}");
        // The rest stays readable, and the field says it is set.
        assert!(text.contains("m7g.large") && text.contains("user_data: Some(\"[redacted]\")"), "{text}");
    }

    #[test]
    fn debug_of_the_plan_never_shows_user_data() {
        let spec = args().with_defaults(crate::model::Autoname::Proposed("demo"), Some("us-east-1"));
        let plan = crate::plan::plan(&spec, "us-east-1", &Default::default()).unwrap();
        let text = format!("{plan:?} {plan:#?}");
        assert!(text.contains("LaunchTemplateAction"), "the plan has a launch template: {text}");
        assert!(!text.contains("abcdef.0123456789abcdef"), "userData in {text}");
    }
}
