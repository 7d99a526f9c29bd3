# Ward's default response policy: the honeypot decision table plus the asset-criticality matrix.
#
# Input (built by ward-respond for every candidate action):
#   action       block_ip | unblock_ip | isolate_host | ... | notify
#   risk         low | medium | high            (the executor's declared risk class)
#   target       the action's target
#   score        consolidated (fused) score in [0, 1]
#   criticality  low | medium | high | critical | "" (unknown)
#   origin       automated | manual | playbook
#   severity     incident severity
# Output: data.ward.response.decision = {"outcome": allow|deny|require_approval, "reasons": [...]}
#         data.ward.response.recommended = the actions the decision table proposes for the score.
package ward.response

import rego.v1

version := "2026.11.25"

# --- The honeypot decision table --------------------------------------------------------------
default band := "monitor"

band := "escalate" if input.score >= 0.9

band := "launch_decoy" if {
	input.score >= 0.7
	input.score < 0.9
}

band := "rotate_ssh_key" if {
	input.score >= 0.5
	input.score < 0.7
}

recommended contains "notify" if band == "escalate"

recommended contains "block_ip" if band == "escalate"

recommended contains "launch_decoy" if band == "launch_decoy"

recommended contains "block_ip" if band == "launch_decoy"

recommended contains "rotate_ssh_key" if band == "rotate_ssh_key"

# --- The asset-criticality matrix: criticality x risk -> approval needed -----------------------
approval_matrix := {
	"critical": {"low": true, "medium": true, "high": true},
	"high": {"low": false, "medium": true, "high": true},
	"medium": {"low": false, "medium": false, "high": false},
	"low": {"low": false, "medium": false, "high": false},
	"": {"low": false, "medium": false, "high": false},
}

known_actions := {
	"block_ip", "unblock_ip", "isolate_host", "release_host", "disable_user", "enable_user",
	"rotate_ssh_key", "launch_decoy", "stop_decoy", "notify", "create_ticket", "webhook", "email",
}

# --- Reasons ------------------------------------------------------------------------------------
deny_reasons contains msg if {
	not known_actions[input.action]
	msg := sprintf("unknown action %q", [input.action])
}

deny_reasons contains msg if {
	input.origin == "automated"
	known_actions[input.action]
	not recommended[input.action]
	not input.action in {"notify", "create_ticket", "webhook", "email"}
	msg := sprintf("score %.2f (band %s) does not call for %s", [input.score, band, input.action])
}

approval_reasons contains msg if {
	input.criticality == "critical"
	msg := "critical asset: every action needs approval"
}

approval_reasons contains msg if {
	input.criticality != "critical"
	approval_matrix[input.criticality][input.risk]
	msg := sprintf("%s-risk action on a %s-criticality asset", [input.risk, input.criticality])
}

approval_reasons contains msg if {
	band == "escalate"
	input.origin == "automated"
	input.risk == "high"
	msg := sprintf("score %.2f >= 0.9: escalated to humans", [input.score])
}

allow_reasons contains msg if {
	input.origin != "automated"
	known_actions[input.action]
	msg := sprintf("requested by an operator (%s)", [input.origin])
}

allow_reasons contains msg if {
	input.origin == "automated"
	recommended[input.action]
	msg := sprintf("score %.2f is in band %s which calls for %s", [input.score, band, input.action])
}

allow_reasons contains msg if {
	input.origin == "automated"
	input.action in {"notify", "create_ticket", "webhook", "email"}
	msg := "notifications are always allowed"
}

# --- The decision: deny beats approval beats allow; nothing allowed is denied -------------------
decision := {"outcome": "deny", "reasons": sort(deny_reasons)} if count(deny_reasons) > 0

decision := {"outcome": "require_approval", "reasons": sort(approval_reasons)} if {
	count(deny_reasons) == 0
	count(approval_reasons) > 0
}

decision := {"outcome": "allow", "reasons": sort(allow_reasons)} if {
	count(deny_reasons) == 0
	count(approval_reasons) == 0
	count(allow_reasons) > 0
}

decision := {"outcome": "deny", "reasons": ["no policy rule allows this action"]} if {
	count(deny_reasons) == 0
	count(approval_reasons) == 0
	count(allow_reasons) == 0
}
