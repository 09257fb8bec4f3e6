package transact

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"

	"github.com/ack-dev/ack/internal/wire"
)

// sequential runs a CommandType S service: each SequentialOption calls a
// module with some of the service's inputs. FieldMapping feeds the first
// result's fields into later inputs; ResultSet places validated results at
// the given positions of the response (kept across options, where HandStack
// kept only the last option's).
func (m *Module) sequential(ctx context.Context, r *run, b *bound, id string) *txError {
	svc := r.service
	if svc.returnType != wire.ReturnJSON {
		return fail(CodeReturnType, "'%s' 순차 처리 되는 거래 응답은 Json만 지원", id)
	}
	type placed struct {
		item  wire.DataSetItem
		meta  string
		count int
	}
	results := map[int]placed{}
	for n, opt := range svc.SequentialOption {
		inputs := make([]Input, 0, len(opt.ServiceInputFields))
		groups := make([][]row, 0, len(opt.ServiceInputFields))
		for _, k := range opt.ServiceInputFields {
			inputs = append(inputs, b.inputs[k])
			groups = append(groups, b.groups[k])
		}
		tx, service := opt.TransactionID, opt.ServiceID
		if tx == "" {
			tx = r.contract.TransactionID
		}
		if service == "" {
			service = svc.ServiceID
		}
		dreq := m.dynamicRequest(r, opt.CommandType, wire.ReturnJSON, inputs, opt.ServiceOutputs, groups, r.txApp(), r.contract.TransactionProjectID, tx, service)
		res, terr := m.callModule(ctx, r, opt.CommandType, dreq)
		if terr != nil {
			return terr
		}
		switch opt.ResultHandling {
		case "FieldMapping":
			items, err := parseResultJSON(res.ResultJSON)
			var fields map[string]json.RawMessage
			if err == nil && len(items) > 0 {
				err = json.Unmarshal(items[0].Value, &fields)
			}
			if err != nil || fields == nil {
				return fail(CodeOutput, "'%s' 순차 처리 %d FieldMapping 결과 확인 필요", id, n).with(err)
			}
			for _, k := range opt.TargetInputFields {
				rows := b.groups[k]
				if b.inputs[k].Type == "Row" && len(rows) > 1 {
					rows = rows[:1]
				}
				for _, row := range rows {
					for i := range row {
						if v, ok := fields[row[i].ParameterName]; ok {
							pv, err := paramValue(v, nil, row[i].DbType)
							if err != nil {
								return fail(CodeOutput, "'%s' 순차 처리 %d FieldMapping 결과 확인 필요", id, n).with(err)
							}
							row[i].Value = pv
						}
					}
				}
			}
		default: // ResultSet
			var part wire.TransactionResponse
			if terr := shapeJSON(res, opt.ServiceOutputs, r.contract, id, &part); terr != nil {
				return terr
			}
			for j, item := range part.Result.DataSet {
				pos := j
				if j < len(opt.ResultOutputFields) {
					pos = opt.ResultOutputFields[j]
				}
				results[pos] = placed{item: item, meta: part.Result.DataSetMeta[j], count: part.Result.DataMapCount[j]}
			}
			r.resp.Message.Additions = append(r.resp.Message.Additions, part.Message.Additions...)
		}
	}
	positions := make([]int, 0, len(results))
	for p := range results {
		positions = append(positions, p)
	}
	sort.Ints(positions)
	if len(b.outputs) > 0 && len(positions) != len(b.outputs) {
		return fail(CodeOutput, "'%s' 거래 정보에 출력 모델 개수 및 DataTransactionAsync 확인 필요, 계약 건수 - '%d', 응답 건수 - '%d'", id, len(b.outputs), len(positions))
	}
	res := &r.resp.Result
	res.ResponseType = fmt.Sprint(int(wire.ReturnJSON))
	for _, p := range positions {
		pl := results[p]
		res.DataSet = append(res.DataSet, pl.item)
		res.DataSetMeta = append(res.DataSetMeta, pl.meta)
		res.DataMapCount = append(res.DataMapCount, pl.count)
	}
	return nil
}
