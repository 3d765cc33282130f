//! The VPC endpoint services a region offers, for the preview rule SEKS-NET-030 (the preflight
//! before a create reads the same list). A read-only call.

use std::collections::BTreeSet;

use crate::{Aws, ExecError};

impl Aws {
    /// Every endpoint service name of the region (DescribeVpcEndpointServices, all pages: a
    /// `ServiceNames` list with one unknown name would fail the whole call).
    pub async fn endpoint_services(&self) -> Result<BTreeSet<String>, ExecError> {
        let ec2 = self.ec2();
        let mut offered = BTreeSet::new();
        let mut token = None;
        loop {
            let o = ec2
                .describe_vpc_endpoint_services()
                .set_next_token(token)
                .send()
                .await
                .map_err(|e| ExecError::Lookup(format!("DescribeVpcEndpointServices: {}", aws_sdk_ec2::error::DisplayErrorContext(e))))?;
            offered.extend(o.service_names().iter().cloned());
            offered.extend(o.service_details().iter().filter_map(|d| d.service_name().map(str::to_string)));
            token = o.next_token().map(str::to_string);
            if token.is_none() {
                return Ok(offered);
            }
        }
    }
}
