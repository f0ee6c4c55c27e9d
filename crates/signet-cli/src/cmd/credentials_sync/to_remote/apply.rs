//! Changing the server: the backup of what is replaced, the uploads and the build sets and
//! pairs pointed at them, and undoing it all when a step fails.

use anyhow::Context;
use signet_client::{ClientError, Credential, CredentialId};
use time::OffsetDateTime;

use super::super::{
    SyncInputs,
    project::{self, IosMaterial, IosMaterials, Project, shown},
};
use super::{
    AndroidStep, BACKUP_DIR, Change, From, PairStep, Pending, Report, Uploaded,
    local::{LocalKeystore, LocalTarget, certificate_upload, keystore_upload, profile_upload},
    pair_place, set_place,
};
use crate::remote::Remote;

/// A change made on the server, and how to take it back.
pub(super) enum Done {
    SetPointed {
        application_id: String,
        name: String,
        old: CredentialId,
        version: i64,
    },
    SetCreated {
        application_id: String,
        name: String,
    },
    PairPointed {
        bundle_id: String,
        old: (CredentialId, CredentialId),
        version: i64,
    },
    PairCreated {
        bundle_id: String,
    },
}

/// Writes what is replaced to `credentials-backup/<UTC time>/`; returns its path, or
/// `None` when nothing replaced holds anything (deleted credentials).
pub(super) fn backup(
    project: &Project,
    android: Option<&AndroidStep>,
    pairs: &[PairStep],
    targets: &[LocalTarget],
    now: OffsetDateTime,
) -> anyhow::Result<Option<String>> {
    let android = android.filter(|s| {
        s.existing
            .as_ref()
            .is_some_and(|(_, id)| s.keystore != From::Server(id.clone()))
    });
    let android = android.and_then(|s| s.current.as_ref());
    let replaced: Vec<(String, &IosMaterial)> = pairs
        .iter()
        .filter(|s| {
            s.existing.as_ref().is_some_and(|(_, c, p)| {
                s.certificate != From::Server(c.clone()) || s.profile != From::Server(p.clone())
            })
        })
        .filter_map(|s| {
            s.current
                .as_ref()
                .map(|c| (targets[s.target].name.clone(), c))
        })
        .collect();
    if android.is_none() && replaced.is_empty() {
        return Ok(None);
    }
    let parent = project.resolve(BACKUP_DIR);
    project::make_private_dirs(&parent)?;
    // Old keystores and certificates do not belong in the repository: the backup directory
    // ignores itself, whatever the project's .gitignore says.
    let ignore = parent.join(".gitignore");
    if !ignore.exists() {
        crate::output_file::write_atomic(&ignore, b"*\n", false, false)
            .with_context(|| format!("cannot write {}", shown(&ignore)))?;
    }
    let stamp = format!(
        "{:04}-{:02}-{:02}T{:02}-{:02}-{:02}Z",
        now.year(),
        u8::from(now.month()),
        now.day(),
        now.hour(),
        now.minute(),
        now.second()
    );
    let mut dir = parent.join(&stamp);
    let mut n = 1;
    loop {
        let mut builder = std::fs::DirBuilder::new();
        #[cfg(unix)]
        std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
        match builder.create(&dir) {
            Ok(()) => break,
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && n < 100 => {
                n += 1;
                dir = parent.join(format!("{stamp}-{n}"));
            }
            Err(e) => {
                return Err(e).with_context(|| format!("cannot create {}", shown(&dir)));
            }
        }
    }
    let ios_targets: Vec<(String, IosMaterial)> = replaced
        .into_iter()
        .map(|(name, m)| {
            (
                name,
                IosMaterial {
                    p12: m.p12.clone(),
                    password: m.password.clone(),
                    profile: m.profile.clone(),
                },
            )
        })
        .collect();
    let ios = (!ios_targets.is_empty()).then(|| IosMaterials {
        application_target: ios_targets[0].0.clone(),
        targets: ios_targets,
    });
    let backup_project = Project {
        dir: dir.clone(),
        existing: None,
    };
    let plan = project::plan(&backup_project, android, ios.as_ref())?;
    plan.write()
        .with_context(|| format!("cannot back up the credentials replaced to {}", shown(&dir)))?;
    Ok(Some(shown(&dir)))
}

/// Uploads, then points the build sets and pairs; on failure, what was done so far and the
/// error.
#[allow(clippy::too_many_arguments)]
pub(super) fn apply(
    remote: &Remote,
    inputs: &SyncInputs,
    keystore: Option<&LocalKeystore>,
    targets: &[LocalTarget],
    pending: &[Pending],
    android: Option<&AndroidStep>,
    pairs: &[PairStep],
    uploaded: &mut Vec<Credential>,
    report: &mut Report,
) -> Result<(), (Vec<Done>, anyhow::Error)> {
    let mut done = Vec::new();
    for p in pending {
        let (upload, what) = match p {
            Pending::Keystore => match keystore {
                Some(k) => (
                    keystore_upload(&k.section, &k.bytes),
                    "the keystore".to_owned(),
                ),
                // Only a keystore read from credentials.json is ever pending.
                None => return Err((done, anyhow::anyhow!("no keystore to upload"))),
            },
            Pending::Certificate(t) => {
                let t = &targets[*t];
                (
                    certificate_upload(&t.section, &t.p12),
                    format!("the distribution certificate of {}", t.bundle_id),
                )
            }
            Pending::Profile(t) => {
                let t = &targets[*t];
                (
                    profile_upload(&t.profile, &t.bundle_id),
                    format!("the provisioning profile of {}", t.bundle_id),
                )
            }
        };
        match remote.block_on(remote.client.upload(&remote.org, &upload)) {
            Ok(c) => {
                report.uploaded.push(Uploaded {
                    id: c.id.clone(),
                    kind: c.kind,
                    name: c.name.clone(),
                });
                uploaded.push(c);
            }
            Err(e) => {
                return Err((
                    done,
                    anyhow::Error::new(e).context(format!("uploading {what}")),
                ));
            }
        }
    }
    let id = |from: &From| match from {
        From::Server(id) => id.clone(),
        From::Upload(i) => uploaded[*i].id.clone(),
    };
    if let Some(step) = android {
        let place = set_place(&step.application_id, &step.name);
        let new = id(&step.keystore);
        match &step.existing {
            Some((_, old)) if *old == new => {}
            existing => {
                let put = remote.block_on(remote.client.put_build_set(
                    &remote.org,
                    &inputs.app,
                    &step.application_id,
                    &step.name,
                    &new,
                    false,
                    existing.as_ref().map(|(v, _)| *v),
                ));
                match put {
                    Ok(set) => {
                        done.push(match existing {
                            Some((_, old)) => Done::SetPointed {
                                application_id: step.application_id.clone(),
                                name: step.name.clone(),
                                old: old.clone(),
                                version: set.version,
                            },
                            None => Done::SetCreated {
                                application_id: step.application_id.clone(),
                                name: step.name.clone(),
                            },
                        });
                        report.changed.push(Change {
                            place,
                            from: existing.iter().map(|(_, o)| o.clone()).collect(),
                            to: vec![new],
                        });
                    }
                    Err(e) => return Err((done, anyhow::Error::new(e).context(place))),
                }
            }
        }
    }
    for step in pairs {
        let t = &targets[step.target];
        let place = pair_place(targets, step.target, inputs.distribution);
        let (cert, profile) = (id(&step.certificate), id(&step.profile));
        if let Some((_, c, p)) = &step.existing
            && *c == cert
            && *p == profile
        {
            continue;
        }
        let put = remote.block_on(remote.client.put_build_pair(
            &remote.org,
            &inputs.app,
            &t.bundle_id,
            inputs.distribution,
            &cert,
            &profile,
            step.existing.as_ref().map(|(v, _, _)| *v),
        ));
        match put {
            Ok(pair) => {
                done.push(match &step.existing {
                    Some((_, c, p)) => Done::PairPointed {
                        bundle_id: t.bundle_id.clone(),
                        old: (c.clone(), p.clone()),
                        version: pair.version,
                    },
                    None => Done::PairCreated {
                        bundle_id: t.bundle_id.clone(),
                    },
                });
                report.changed.push(Change {
                    place,
                    from: step
                        .existing
                        .iter()
                        .flat_map(|(_, c, p)| [c.clone(), p.clone()])
                        .collect(),
                    to: vec![cert, profile],
                });
            }
            Err(e) => return Err((done, anyhow::Error::new(e).context(place))),
        }
    }
    Ok(())
}

/// What undoing did.
pub(super) struct Undone {
    pub(super) lines: Vec<String>,
    pub(super) complete: bool,
}

/// Takes back `done` in reverse, then deletes the uploads (only once nothing points at
/// them any more).
pub(super) fn undo(
    remote: &Remote,
    inputs: &SyncInputs,
    done: Vec<Done>,
    uploaded: &[Credential],
) -> Undone {
    let mut out = Undone {
        lines: Vec::new(),
        complete: true,
    };
    let (org, app, dist) = (&remote.org, inputs.app.as_str(), inputs.distribution);
    for d in done.into_iter().rev() {
        let (what, result) = match d {
            Done::SetPointed {
                application_id,
                name,
                old,
                version,
            } => (
                format!("point {} back at {old}", set_place(&application_id, &name)),
                remote
                    .block_on(remote.client.put_build_set(
                        org,
                        app,
                        &application_id,
                        &name,
                        &old,
                        false,
                        Some(version),
                    ))
                    .map(drop),
            ),
            Done::SetCreated {
                application_id,
                name,
            } => (
                format!("delete {} (created)", set_place(&application_id, &name)),
                remote.block_on(
                    remote
                        .client
                        .delete_build_set(org, app, &application_id, &name),
                ),
            ),
            Done::PairPointed {
                bundle_id,
                old,
                version,
            } => (
                format!(
                    "point ios {bundle_id} / {dist} back at {} + {}",
                    old.0, old.1
                ),
                remote
                    .block_on(remote.client.put_build_pair(
                        org,
                        app,
                        &bundle_id,
                        dist,
                        &old.0,
                        &old.1,
                        Some(version),
                    ))
                    .map(drop),
            ),
            Done::PairCreated { bundle_id } => (
                format!("delete ios {bundle_id} / {dist} (created)"),
                remote.block_on(remote.client.delete_build_pair(org, app, &bundle_id, dist)),
            ),
        };
        record(&mut out, &what, result);
    }
    for c in uploaded.iter().rev() {
        let what = format!("delete the uploaded {} {}", c.kind.name(), c.id);
        if out.complete {
            let result = remote
                .block_on(remote.client.delete_credential(org, &c.id))
                .map(drop);
            record(&mut out, &what, result);
        } else {
            // A build set or pair that could not be pointed back may still use it.
            out.lines.push(format!(
                "NOT undone: {what}: kept, as something may still use it"
            ));
        }
    }
    out
}

fn record(out: &mut Undone, what: &str, result: Result<(), ClientError>) {
    match result {
        Ok(()) => out.lines.push(format!("undone: {what}")),
        Err(e) => {
            out.complete = false;
            out.lines.push(format!("NOT undone: {what}: {e}"));
        }
    }
}
