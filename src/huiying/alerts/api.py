"""Staff alert robots over HTTP, for admins: list, add, change, remove. A robot's secret is taken,
never returned (`has_secret`); its last error shows so a broken robot is seen, not silent."""

from __future__ import annotations

from fastapi import APIRouter, Response
from sqlalchemy.orm import Session

from huiying.accounts import access
from huiying.accounts.access import Permission
from huiying.alerts import service
from huiying.alerts.models import AlertRobot
from huiying.alerts.schemas import RobotIn, RobotList, RobotOut, RobotPatch
from huiying.http.deps import DB, PathId, Staff
from huiying.http.responses import json_model

router = APIRouter(prefix="/api/v1/alerts", tags=["alerts"])


def robot_out(session: Session, robot: AlertRobot) -> RobotOut:
    return RobotOut(
        id=robot.id,
        kind=robot.kind,
        url=service.robot_url(robot),
        has_secret=robot.secret_encrypted is not None,
        teams=service.team_slugs(session, robot.id),
        created_at=robot.created_at,
        last_sent_at=robot.last_sent_at,
        last_error=robot.last_error,
        last_error_at=robot.last_error_at,
        throttled_until=robot.throttled_until,
        pending=service.pending_count(session, robot.id),
    )


@router.get("/robots", response_model=RobotList)
def list_robots(db: DB, actor: Staff) -> Response:
    """Every robot: `{items}` (no secrets)."""
    access.require(actor, Permission.CONFIG_MANAGE)
    with db.read() as session:
        return json_model(RobotList(items=[robot_out(session, r) for r in service.list_robots(session)]))


@router.post("/robots", response_model=RobotOut, status_code=201)
def create_robot(body: RobotIn, db: DB, actor: Staff) -> Response:
    """`{kind: wecom|dingtalk|feishu, url, secret (not for wecom), teams: [slug…]}`."""
    access.require(actor, Permission.CONFIG_MANAGE)
    with db.write() as session:
        robot = service.create_robot(
            session, kind=body.kind, url=body.url, secret=body.secret or None, teams=list(body.teams), actor=actor
        )
        return json_model(robot_out(session, robot), status_code=201)


@router.patch("/robots/{robot_id}", response_model=RobotOut)
def patch_robot(robot_id: PathId, body: RobotPatch, db: DB, actor: Staff) -> Response:
    """Change the fields given; `secret: ""` or `null` removes the secret."""
    access.require(actor, Permission.CONFIG_MANAGE)
    changes = body.model_dump(exclude_unset=True)
    for field in ("kind", "url", "teams"):
        if field in changes and changes[field] is None:
            del changes[field]
    with db.write() as session:
        robot = service.update_robot(session, service.get_robot(session, robot_id), changes=changes, actor=actor)
        return json_model(robot_out(session, robot))


@router.delete("/robots/{robot_id}", status_code=204)
def delete_robot(robot_id: PathId, db: DB, actor: Staff) -> Response:
    access.require(actor, Permission.CONFIG_MANAGE)
    with db.write() as session:
        service.delete_robot(session, service.get_robot(session, robot_id), actor=actor)
    return Response(status_code=204)
