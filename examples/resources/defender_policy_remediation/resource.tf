# Re-run the Linux member of the Defender for Endpoint initiative every month, waiting for the
# task and failing on failed deployments.
resource "defender_policy_remediation" "mde_linux" {
  policy_assignment_id           = defender_policy_assignment.mde.id
  policy_definition_reference_id = "microsoftDefenderForEndpointLinuxAgentDeploy"
  mode                           = "ReEvaluateCompliance"
  location_filters               = ["westeurope", "northeurope"]
  parallel_deployments           = 10
  failure_threshold              = 0.1
  wait                           = true

  triggers = {
    month = "2026-08"
  }
}
