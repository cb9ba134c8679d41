package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	proxbox "github.com/proxbox-go/proxbox/proxboxd"
)

// StartRun records a started run and returns its id.
func (s *Store) StartRun(ctx context.Context, r proxbox.SyncRun) (int, error) {
	res, err := s.db.ExecContext(ctx, `INSERT INTO sync_run(operation_id, kind, stage, path, started_at) VALUES(?,?,?,?,?)`,
		r.OperationID, r.Kind, r.Stage, r.Path, float64(r.StartedAt.UnixNano())/1e9)
	if err != nil {
		return 0, fmt.Errorf("sqlite: start run: %w", err)
	}
	id, _ := res.LastInsertId()
	return int(id), nil
}

// FinishRun records the outcome of run id. result is marshalled to JSON.
func (s *Store) FinishRun(ctx context.Context, id int, ok bool, message string, duration time.Duration, result any) error {
	var rj []byte
	if result != nil {
		b, err := json.Marshal(result)
		if err == nil {
			rj = b
		}
	}
	_, err := s.db.ExecContext(ctx, `UPDATE sync_run SET finished_at=?, duration_s=?, ok=?, message=?, result_json=? WHERE id=?`,
		nowEpoch(), duration.Seconds(), b2i(ok), message, string(rj), id)
	if err != nil {
		return fmt.Errorf("sqlite: finish run: %w", err)
	}
	return nil
}

func scanRuns(rows *sql.Rows) ([]proxbox.SyncRun, error) {
	defer rows.Close()
	out := []proxbox.SyncRun{}
	for rows.Next() {
		var r proxbox.SyncRun
		var started float64
		var fin, dur sql.NullFloat64
		var ok sql.NullInt64
		var res string
		if err := rows.Scan(&r.ID, &r.OperationID, &r.Kind, &r.Stage, &r.Path, &started, &fin, &dur, &ok, &r.Message, &res); err != nil {
			return nil, fmt.Errorf("sqlite: runs: %w", err)
		}
		r.StartedAt = epochTime(started)
		if fin.Valid {
			t := epochTime(fin.Float64)
			r.FinishedAt = &t
		}
		r.DurationS = dur.Float64
		if ok.Valid {
			b := ok.Int64 != 0
			r.OK = &b
		}
		if res != "" {
			r.Result = json.RawMessage(res)
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

const runCols = `id, operation_id, kind, stage, path, started_at, finished_at, duration_s, ok, message, result_json`

// ListRuns returns the newest runs first.
func (s *Store) ListRuns(ctx context.Context, limit int) ([]proxbox.SyncRun, error) {
	if limit <= 0 || limit > 1000 {
		limit = 100
	}
	rows, err := s.db.QueryContext(ctx, `SELECT `+runCols+` FROM sync_run ORDER BY id DESC LIMIT ?`, limit)
	if err != nil {
		return nil, fmt.Errorf("sqlite: runs: %w", err)
	}
	return scanRuns(rows)
}

// LastRunPerStage returns the newest run of every stage.
func (s *Store) LastRunPerStage(ctx context.Context) ([]proxbox.SyncRun, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+runCols+` FROM sync_run WHERE id IN (SELECT MAX(id) FROM sync_run GROUP BY kind, stage) ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("sqlite: runs: %w", err)
	}
	return scanRuns(rows)
}
