//! Playbooks: validation errors name file, step and field; runs branch, fan out, wait for
//! approval, roll back on failure, and survive a restart in the middle of 100 concurrent runs
//! without losing a run or repeating a completed step.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use ward_respond::model::{RunStatus, StepState};
use ward_respond::playbook::{Playbook, PlaybookRunner};
use ward_respond::{ActionKind, ActionStatus, ApprovalStatus, Mode, ResponseRepo, RiskClass, Role};

use crate::backends::{Backing, Kind};
use crate::common::{Fake, config, decoy_band_alerts, executors, harness, incident, tenant};

const BRUTE: &str = r#"
name: ssh-brute-force
description: contain an SSH brute force
trigger: { severity: high, rule_tags: [attack.t1110], incident_type: source.ip }
on_failure: rollback
steps:
  - { id: facts, enrich: {} }
  - id: gate
    condition:
      if: "score >= 0.5"
      then:
        - { id: block, action: block_ip, target: "{{source.ip}}", ttl: 10m, retries: 1, timeout: 5s }
      else:
        - { id: watch, notify: { channel: soc, message: "watching {{source.ip}}" } }
  - id: fanout
    parallel:
      - { id: tell, notify: { channel: security, message: "blocked {{source.ip}} for {{incident.id}}" } }
      - { id: decoy, action: launch_decoy, target: "2222" }
"#;

fn err_of(text: &str) -> String {
    Playbook::parse("pb.yml", text).unwrap_err().to_string()
}

#[test]
fn invalid_playbooks_name_file_step_and_field() {
    let e = err_of("name: x\nsteps:\n  - { id: a, action: block_ip }\n");
    assert!(e.contains("pb.yml") && e.contains("\"a\"") && e.contains("\"target\""), "{e}");
    let e = err_of("name: x\nsteps:\n  - { id: a, action: nuke_site, target: x }\n");
    assert!(e.contains("\"action\"") && e.contains("nuke_site"), "{e}");
    let e = err_of("name: x\nsteps:\n  - { id: a, condition: { if: \"mood > 3\" } }\n");
    assert!(e.contains("condition.if") && e.contains("mood"), "{e}");
    let e = err_of("name: x\nsteps:\n  - { id: a, enrich: {} }\n  - { id: a, enrich: {} }\n");
    assert!(e.contains("duplicate"), "{e}");
    let e = err_of("name: x\nsteps:\n  - { id: a, enrich: {}, notify: { channel: c, message: m } }\n");
    assert!(e.contains("exactly one"), "{e}");
    let e = err_of(
        "name: x\nsteps:\n  - { id: p, parallel: [ { id: q, action: block_ip, target: x, ttl: soon } ] }\n",
    );
    assert!(e.contains("p/q") && e.contains("\"ttl\""), "{e}");
    let e = err_of("name: x\nstepz: []\n");
    assert!(e.contains("stepz"), "{e}");
}

fn fakes() -> (Arc<Fake>, Arc<Fake>, Arc<Fake>) {
    (
        Fake::new(ActionKind::BlockIp, RiskClass::High),
        Fake::new(ActionKind::Notify, RiskClass::Low),
        Fake::new(ActionKind::LaunchDecoy, RiskClass::Low),
    )
}

#[tokio::test]
async fn a_run_branches_fans_out_and_journals_each_step_once() {
    let (block, notify, decoy) = fakes();
    let h = harness(config(Mode::Autonomous), executors(&[block.clone(), notify.clone(), decoy.clone()]));
    let pb = Playbook::parse("brute.yml", BRUTE).unwrap();
    let inc = incident("inc-1", "203.0.113.7");
    assert!(pb.matches(&inc, &decoy_band_alerts()));
    let runner = PlaybookRunner::new(h.responder.clone(), vec![pb]);
    let runs = runner.on_incident(&inc, &decoy_band_alerts()).await.unwrap();
    assert_eq!(runs.len(), 1);
    let run = runner.drive(&tenant(), &runs[0].id).await.unwrap();
    assert_eq!(run.status, RunStatus::Completed, "{}", run.reason);
    assert!(block.is_active("203.0.113.7") && decoy.is_active("2222"));
    assert_eq!(notify.total(), 1);
    let journal = h.repo.journal(&tenant(), &run.id).await.unwrap();
    let completed: Vec<&str> =
        journal.iter().filter(|s| s.state == StepState::Completed).map(|s| s.step.as_str()).collect();
    for step in ["facts", "gate", "gate/then/block", "fanout/tell", "fanout/decoy", "fanout"] {
        assert_eq!(completed.iter().filter(|s| **s == step).count(), 1, "{step}: {completed:?}");
    }
    // Driving a finished run, or triggering again, changes nothing.
    runner.drive(&tenant(), &run.id).await.unwrap();
    runner.on_incident(&inc, &decoy_band_alerts()).await.unwrap();
    assert_eq!(block.total() + notify.total() + decoy.total(), 3);
}

#[tokio::test]
async fn a_failed_step_rolls_back_completed_actions() {
    let (block, notify, _) = fakes();
    let h = harness(config(Mode::Autonomous), executors(&[block.clone(), notify.clone()]));
    let text = "name: fails\nsteps:\n  - { id: block, action: block_ip, target: \"{{source.ip}}\" }\n  - { id: isolate, action: isolate_host, target: web01, retries: 2 }\n";
    let runner = PlaybookRunner::new(h.responder.clone(), vec![Playbook::parse("fails.yml", text).unwrap()]);
    let run = runner.create_run("fails", &incident("inc-2", "203.0.113.8"), &[]).await.unwrap();
    let run = runner.drive(&tenant(), &run.id).await.unwrap();
    assert_eq!(run.status, RunStatus::Failed);
    assert!(
        run.reason.contains("step isolate failed") && run.reason.contains("rolled back 1"),
        "{}",
        run.reason
    );
    assert!(!block.is_active("203.0.113.8"), "the completed block was rolled back");
    let journal = h.repo.journal(&tenant(), &run.id).await.unwrap();
    assert!(journal.iter().any(|s| s.step == "block" && s.state == StepState::RolledBack));
    assert_eq!(journal.iter().filter(|s| s.step == "isolate" && s.state == StepState::Started).count(), 3);
}

#[tokio::test]
async fn wait_for_approval_pauses_until_a_responder_answers() {
    let (block, _, _) = fakes();
    let h = harness(config(Mode::Autonomous), executors(std::slice::from_ref(&block)));
    let text = "name: ask\nsteps:\n  - { id: ask, wait_for_approval: { action: block_ip, target: \"{{source.ip}}\" }, timeout: 30s }\n";
    let runner =
        Arc::new(PlaybookRunner::new(h.responder.clone(), vec![Playbook::parse("ask.yml", text).unwrap()]));
    let run = runner.create_run("ask", &incident("inc-3", "203.0.113.9"), &[]).await.unwrap();
    let driver = tokio::spawn({
        let runner = runner.clone();
        let id = run.id.clone();
        async move { runner.drive(&tenant(), &id).await.unwrap() }
    });
    let approval = loop {
        let pending = h.repo.approvals(&tenant(), Some(ApprovalStatus::Pending)).await.unwrap();
        if let Some(a) = pending.into_iter().next() {
            break a;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert!(!block.is_active("203.0.113.9"), "nothing runs before the answer");
    let r = h.responder.approve(&tenant(), &approval.id, "user:carol", Role::Responder).await.unwrap();
    assert_eq!(r.status, ActionStatus::Verified);
    let done = driver.await.unwrap();
    assert_eq!(done.status, RunStatus::Completed, "{}", done.reason);
}

const DURABLE: &str = r#"
name: durable
steps:
  - { id: facts, enrich: {} }
  - { id: block, action: block_ip, target: "{{source.ip}}" }
  - { id: tell, notify: { channel: security, message: "blocked {{source.ip}}" } }
  - { id: decoy, action: launch_decoy, target: "{{incident.id}}" }
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restart_in_the_middle_of_100_runs_loses_none_and_repeats_no_completed_step_sqlite() {
    restart_in_the_middle_of_100_runs(Kind::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restart_in_the_middle_of_100_runs_loses_none_and_repeats_no_completed_step_postgres() {
    restart_in_the_middle_of_100_runs(Kind::Postgres).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restart_in_the_middle_of_100_runs_loses_none_and_repeats_no_completed_step_memory() {
    restart_in_the_middle_of_100_runs(Kind::Memory).await;
}

/// 100 concurrent runs of a four-step playbook; every run task is killed once about half of the
/// 400 steps completed; a new responder and runner over a freshly opened store (a restarted
/// process) resume the unfinished runs. No run is lost and no completed step runs again.
async fn restart_in_the_middle_of_100_runs(kind: Kind) {
    let Some(mut backing) = Backing::new(kind).await else { return };
    let block = Fake::slow(ActionKind::BlockIp, Duration::from_millis(25));
    let notify = Fake::slow(ActionKind::Notify, Duration::from_millis(25));
    let decoy = Fake::slow(ActionKind::LaunchDecoy, Duration::from_millis(25));
    let world = || executors(&[block.clone(), notify.clone(), decoy.clone()]);
    let repo = backing.open().await;
    let runner = Arc::new(PlaybookRunner::new(
        responder_on(repo.clone(), world()),
        vec![Playbook::parse("d.yml", DURABLE).unwrap()],
    ));
    let mut run_ids = Vec::new();
    for i in 0..100u32 {
        let inc = incident(&format!("inc-{i}"), &format!("198.18.1.{}", i + 1));
        run_ids.push(runner.create_run("durable", &inc, &[]).await.unwrap().id);
    }
    let handles: Vec<_> = run_ids
        .iter()
        .map(|id| {
            let (runner, id) = (runner.clone(), id.clone());
            tokio::spawn(async move { runner.drive(&tenant(), &id).await })
        })
        .collect();
    // Let about half of the 300 executions happen, then "crash": every run task dies mid-flight.
    let deadline = Instant::now() + Duration::from_secs(60);
    while block.total() + notify.total() + decoy.total() < 150 {
        assert!(Instant::now() < deadline, "the runs did not progress");
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    for h in &handles {
        h.abort();
    }
    for h in handles {
        let _ = h.await;
    }
    drop(runner);
    let mut before: BTreeMap<String, String> = BTreeMap::new(); // completed step → its action id
    for id in &run_ids {
        for s in repo.journal(&tenant(), id).await.unwrap() {
            if s.state == StepState::Completed
                && let Some(action) = s.output["action_id"].as_str()
            {
                before.insert(format!("{id}/{}", s.step), action.to_owned());
            }
        }
    }
    let unfinished_before = repo.runs_with_status(RunStatus::Running).await.unwrap().len();
    assert!(unfinished_before > 0, "the crash must interrupt some runs");

    // Restart: a new responder and runner over the reopened store and the same world.
    drop(repo);
    let repo = backing.open().await;
    let runner = Arc::new(PlaybookRunner::new(
        responder_on(repo.clone(), world()),
        vec![Playbook::parse("d.yml", DURABLE).unwrap()],
    ));
    let unfinished = runner.unfinished().await.unwrap();
    assert_eq!(unfinished.len(), unfinished_before);
    let t = tenant();
    let resume = futures::future::join_all(unfinished.iter().map(|r| runner.drive(&t, &r.id)));
    let resumed = tokio::time::timeout(Duration::from_secs(120), resume).await.expect("resumed runs finish");
    assert!(
        resumed.iter().all(|r| r.as_ref().is_ok_and(|r| r.status == RunStatus::Completed)),
        "{resumed:?}"
    );

    let executions = |f: &Fake| f.executions.lock().unwrap().clone();
    let (b, n, d) = (executions(&block), executions(&notify), executions(&decoy));
    for id in &run_ids {
        let run = repo.run(&tenant(), id).await.unwrap().unwrap();
        assert_eq!(run.status, RunStatus::Completed, "run {id} lost");
        let journal = repo.journal(&tenant(), id).await.unwrap();
        for step in ["facts", "block", "tell", "decoy"] {
            let n = journal.iter().filter(|s| s.step == step && s.state == StepState::Completed).count();
            assert_eq!(n, 1, "run {id} step {step} completed {n} times");
        }
    }
    for (step, action) in &before {
        let count = b.get(action).or_else(|| n.get(action)).or_else(|| d.get(action)).copied().unwrap_or(0);
        assert_eq!(count, 1, "{step}: completed before the crash, executed {count} times in total");
    }
    assert_eq!(block.active.lock().unwrap().len(), 100);
    eprintln!(
        "restart test ({kind:?}): {} runs interrupted, {} completed steps kept",
        unfinished_before,
        before.len()
    );
    backing.cleanup().await;
}

fn responder_on(
    repo: Arc<dyn ResponseRepo>,
    world: ward_respond::exec::Executors,
) -> Arc<ward_respond::Responder> {
    Arc::new(ward_respond::Responder::new(
        config(Mode::Autonomous),
        crate::common::policies(),
        repo,
        world,
        Arc::new(ward_respond::SystemClock),
    ))
}
